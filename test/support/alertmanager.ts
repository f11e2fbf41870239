/**
 * A real Alertmanager (Debian's prometheus-alertmanager 0.25) for tests: its own temp dir for config and
 * storage, a free loopback port, clustering off (no gossip port at all), stopped by the test. Alerts are
 * read and posted through its v2 API, as Prometheus and amtool use it.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePort } from './free-port.ts';

export interface AlertmanagerOptions {
  /** The whole alertmanager.yml; template paths in it must be absolute (it is written to a temp dir). */
  readonly config: string;
}

/** An alert as GET /api/v2/alerts returns it (the fields tests read). */
export interface AlertmanagerAlert {
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly receivers: readonly { name: string }[];
  readonly status: { state: string; inhibitedBy: readonly string[]; silencedBy: readonly string[] };
}

/** An alert to POST, as Prometheus sends them. */
export interface PostableAlert {
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  /** ISO time; Alertmanager resolves the alert then (default: its resolve_timeout from now). */
  readonly endsAt?: string;
}

export interface AlertmanagerServer {
  readonly url: string;
  alerts(): Promise<AlertmanagerAlert[]>;
  postAlerts(alerts: readonly PostableAlert[]): Promise<void>;
  /** Polls GET /api/v2/alerts until the predicate holds or the deadline passes. */
  waitForAlerts(predicate: (alerts: AlertmanagerAlert[]) => boolean, what: string, timeoutMs?: number): Promise<AlertmanagerAlert[]>;
  stop(): Promise<void>;
}

const START_ATTEMPTS = 3;

export async function startAlertmanager(options: AlertmanagerOptions): Promise<AlertmanagerServer> {
  const dir = await mkdtemp(join(tmpdir(), 'ee-alertmanager-'));
  try {
    await writeFile(join(dir, 'alertmanager.yml'), options.config);
    // findFreePort cannot reserve the port: another process may take it before Alertmanager binds it, so a
    // start that fails with "address already in use" is tried again on a new port.
    for (let attempt = 1; ; attempt++) {
      const port = await findFreePort();
      const started = await startOnPort(dir, port);
      if (started.ok) return started.server;
      if (attempt === START_ATTEMPTS || !/address already in use/.test(started.error)) {
        throw new Error(`alertmanager did not start: ${started.error}`);
      }
    }
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

async function startOnPort(dir: string, port: number): Promise<{ ok: true; server: AlertmanagerServer } | { ok: false; error: string }> {
  const child = spawn(
    'prometheus-alertmanager',
    [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  // Resolves once the process is gone and its stderr fully read, so the reason it exited is in `stderr`.
  const gone = new Promise<string>((resolve) => {
    child.once('error', (err) => resolve(`could not run prometheus-alertmanager: ${err.message}`));
    child.once('close', (code) => resolve(`prometheus-alertmanager exited with ${code}: ${stderr}`));
  });
  const url = `http://127.0.0.1:${port}`;
  const server = buildServer(url, child, dir);
  try {
    await waitUntilReady(url, gone);
    return { ok: true, server };
  } catch (err) {
    await stopChild(child);
    return { ok: false, error: (err as Error).message };
  }
}

function buildServer(url: string, child: ChildProcess, dir: string): AlertmanagerServer {
  const alerts = async (): Promise<AlertmanagerAlert[]> => {
    const response = await fetch(`${url}/api/v2/alerts`, { signal: AbortSignal.timeout(10_000) });
    if (!response.ok) throw new Error(`GET /api/v2/alerts: ${response.status} ${await response.text()}`);
    return (await response.json()) as AlertmanagerAlert[];
  };
  return {
    url,
    alerts,
    async postAlerts(postable) {
      const response = await fetch(`${url}/api/v2/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(postable),
        signal: AbortSignal.timeout(10_000),
      });
      if (!response.ok) throw new Error(`POST /api/v2/alerts: ${response.status} ${await response.text()}`);
    },
    async waitForAlerts(predicate, what, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const current = await alerts();
        if (predicate(current)) return current;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(current)}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    },
    async stop() {
      await stopChild(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

async function waitUntilReady(url: string, gone: Promise<string>): Promise<void> {
  let exit: string | undefined;
  void gone.then((reason) => (exit = reason));
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (exit !== undefined) throw new Error(exit);
    const ready = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2000) }).then((r) => r.ok, () => false);
    if (ready) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error('prometheus-alertmanager was not ready within 30 s');
}
