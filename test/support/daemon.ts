/**
 * A server program (Prometheus, Alertmanager) run for a test: its config written to a temp dir of its own,
 * spawned on a free loopback port, polled at its readiness URL until a deadline, stopped with SIGTERM (SIGKILL
 * if it lingers) and its temp dir removed. findFreePort cannot reserve
 * the port: another process may take it before the daemon binds it, so a start that fails with "address
 * already in use" is tried again on a new port.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePort } from './free-port.ts';

export interface DaemonOptions {
  /** The program, also the name error messages use. */
  readonly command: string;
  /** File name → text, written into the temp dir before the start. */
  readonly files: Readonly<Record<string, string>>;
  /** Its arguments when it is to listen on 127.0.0.1:`port` and keep its files in `dir`. */
  readonly args: (port: number, dir: string) => readonly string[];
  /** The path that answers 2xx once the daemon serves, e.g. `/-/ready`. */
  readonly readyPath: string;
  readonly readyTimeoutMs?: number;
}

export interface Daemon {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  stop(): Promise<void>;
}

const START_ATTEMPTS = 3;
const DEFAULT_READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 10_000;
/** Enough of stderr to show why a daemon exited, without keeping a long-running one's whole log. */
const STDERR_TAIL_CHARS = 4000;

export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const dir = await mkdtemp(join(tmpdir(), `ee-${options.command}-`));
  const removeDir = () => rm(dir, { recursive: true, force: true });
  try {
    for (const [name, text] of Object.entries(options.files)) await writeFile(join(dir, name), text);
    for (let attempt = 1; ; attempt++) {
      const started = await startOnPort(options, await findFreePort(), dir);
      if (started.ok) {
        return { url: started.url, stop: () => stopChild(started.child).then(removeDir) };
      }
      if (attempt === START_ATTEMPTS || !/address already in use/.test(started.error)) {
        throw new Error(`${options.command} did not start: ${started.error}`);
      }
    }
  } catch (err) {
    await removeDir();
    throw err;
  }
}

type StartOutcome = { ok: true; url: string; child: ChildProcess } | { ok: false; error: string };

async function startOnPort(options: DaemonOptions, port: number, dir: string): Promise<StartOutcome> {
  const child = spawn(options.command, options.args(port, dir), { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-STDERR_TAIL_CHARS)));
  // Resolves once the process is gone and its stderr fully read, so the reason it exited is in `stderr`.
  const gone = new Promise<string>((resolve) => {
    child.once('error', (err) => resolve(`could not run ${options.command}: ${err.message}`));
    child.once('close', (code) => resolve(`${options.command} exited with ${code}: ${stderr}`));
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntilReady(
      `${url}${options.readyPath}`,
      gone,
      options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS,
      () => stderr,
    );
    return { ok: true, url, child };
  } catch (err) {
    await stopChild(child);
    return { ok: false, error: (err as Error).message };
  }
}

async function waitUntilReady(
  readyUrl: string,
  gone: Promise<string>,
  timeoutMs: number,
  stderr: () => string,
): Promise<void> {
  let exit: string | undefined;
  void gone.then((reason) => (exit = reason));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exit !== undefined) throw new Error(exit);
    const ready = await fetch(readyUrl, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`not ready within ${timeoutMs / 1000} s: ${stderr()}`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}
