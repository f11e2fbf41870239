/**
 * A real Alertmanager (Debian's prometheus-alertmanager 0.25) for tests: its own temp dir for config and
 * storage, a free loopback port, clustering off (no gossip port at all), stopped by the test. Alerts are
 * read and posted through its v2 API, as Prometheus and amtool use it.
 */
import { join } from 'node:path';
import { startDaemon } from './daemon.ts';
import type { Daemon } from './daemon.ts';
import { pollUntil } from './poll.ts';

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
  waitForAlerts(
    predicate: (alerts: AlertmanagerAlert[]) => boolean,
    what: string,
    timeoutMs?: number,
  ): Promise<AlertmanagerAlert[]>;
  stop(): Promise<void>;
}

export async function startAlertmanager(options: AlertmanagerOptions): Promise<AlertmanagerServer> {
  const daemon = await startDaemon({
    command: 'prometheus-alertmanager',
    files: { 'alertmanager.yml': options.config },
    args: (port, dir) => [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
      '--log.level=warn',
    ],
    readyPath: '/-/ready',
  });
  return buildServer(daemon);
}

function buildServer(daemon: Daemon): AlertmanagerServer {
  const { url } = daemon;
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
    waitForAlerts(predicate, what, timeoutMs = 30_000) {
      return pollUntil(alerts, predicate, {
        what,
        timeoutMs,
        intervalMs: 200,
        describe: (current) => JSON.stringify(current),
      });
    },
    stop: daemon.stop,
  };
}
