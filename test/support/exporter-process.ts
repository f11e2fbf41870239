/**
 * Runs the built CLI (dist/main.js, what ships) as a child process on a free loopback port, and reads its
 * JSON logs to learn the port. Every wait has a deadline so a broken exporter fails the test, not hangs it.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { parseExposition } from './exposition.ts';
import type { Sample } from './exposition.ts';
import { pollUntil } from './poll.ts';

const MAIN = new URL('../../dist/main.js', import.meta.url).pathname;

export interface ExporterProcess {
  readonly baseUrl: string;
  readonly child: ChildProcess;
  readonly logs: () => readonly Record<string, unknown>[];
  scrape(): Promise<Sample[]>;
  /** Polls /metrics until the predicate holds or the deadline passes. */
  waitForMetrics(predicate: (samples: Sample[]) => boolean, what: string, timeoutMs?: number): Promise<Sample[]>;
  /** Sends a signal and waits for the exit code. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
}

/** `nodeArgs` go to node before the script, for what a measurement preloads (bench/soak.ts). */
export async function startExporter(
  args: readonly string[],
  options: { cwd?: string; nodeArgs?: readonly string[] } = {},
): Promise<ExporterProcess> {
  const child = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), MAIN, '--web.listen-address=127.0.0.1:0', '--log.format=json', ...args],
    {
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const logs: Record<string, unknown>[] = [];
  let stderrText = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const listening = new Promise<Record<string, unknown>>((resolve, reject) => {
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderrText += chunk;
      const lines = stderrText.split('\n');
      stderrText = lines.pop() ?? '';
      for (const line of lines) {
        const entry = parseLogLine(line);
        logs.push(entry);
        if (entry['msg'] === 'listening') resolve(entry);
      }
    });
    void exited.then((code) =>
      reject(new Error(`exporter exited with ${code} before listening: ${JSON.stringify(logs.slice(-5))}`)),
    );
  });
  const listened = await withDeadline(listening, 20_000, 'the exporter to listen');
  // With a web config that turns TLS on, the exporter says so; fetch then needs the test's CA, see web-config.test.ts.
  const baseUrl = `${listened['tls'] === true ? 'https' : 'http'}://${String(listened['address'])}`;
  const scrape = async (): Promise<Sample[]> => parseExposition(await (await fetch(`${baseUrl}/metrics`)).text());
  return {
    baseUrl,
    child,
    logs: () => logs,
    scrape,
    waitForMetrics(predicate, what, timeoutMs = 60_000) {
      return pollUntil(scrape, predicate, { what, timeoutMs, intervalMs: 200 });
    },
    async stop(signal = 'SIGTERM', timeoutMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      try {
        return await withDeadline(exited, timeoutMs, `the exporter to exit after ${signal}`);
      } catch (err) {
        child.kill('SIGKILL');
        throw err;
      }
    },
  };
}

/** Runs the CLI to completion (for --once and --config.check). */
export async function runExporter(
  args: readonly string[],
  options: { cwd?: string; timeoutMs?: number } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [MAIN, ...args], { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  try {
    const code = await withDeadline(exited, options.timeoutMs ?? 60_000, `exposure-exporter ${args.join(' ')}`);
    return { code, stdout, stderr };
  } finally {
    child.kill('SIGKILL');
  }
}

function parseLogLine(line: string): Record<string, unknown> {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return { msg: 'non-JSON output', line };
  }
}

async function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
