/**
 * Runs a command-line tool (promtool, amtool, systemd-analyze, ip, …) to completion with a deadline. With
 * `runTool` a non-zero exit is a result to assert on, not an exception; `readToolOutput` is for tools that must
 * succeed. Either way a tool that cannot be started, or that the deadline kills, rejects, so a missing or
 * hanging tool fails the test with its own error instead of passing as "exit code null".
 */
import { execFile } from 'node:child_process';

export interface ToolResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ToolOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Written to the tool's stdin (`promtool check metrics` reads the exposition there); stdin is closed either way. */
  readonly input?: string;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal | undefined;
}

const DEFAULT_TIMEOUT_MS = 60_000;
/** Large enough for an nmap XML document or an npm install log; execFile's 1 MiB default is not. */
const MAX_OUTPUT_BYTES = 64 << 20;

export function runTool(command: string, args: readonly string[], options: ToolOptions = {}): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      command,
      args,
      {
        cwd: options.cwd,
        env: options.env,
        timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        killSignal: 'SIGKILL',
        maxBuffer: MAX_OUTPUT_BYTES,
        encoding: 'utf8',
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          reject(
            new Error(`${describeCall(command, args)} did not run to its end: ${stderr.trim() || error.message}`, {
              cause: error,
            }),
          );
        } else {
          resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
        }
      },
    );
    // A tool that exits before reading its stdin makes the write fail with EPIPE; its exit code is the result.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(options.input);
  });
}

/** The stdout of a tool that must exit 0; any other exit rejects with the command and its stderr. */
export async function readToolOutput(
  command: string,
  args: readonly string[],
  options: ToolOptions = {},
): Promise<string> {
  const { code, stdout, stderr } = await runTool(command, args, options);
  if (code !== 0) throw new Error(`${describeCall(command, args)} failed with exit code ${code}: ${stderr.trim()}`);
  return stdout;
}

function describeCall(command: string, args: readonly string[]): string {
  return [command, ...args].join(' ');
}
