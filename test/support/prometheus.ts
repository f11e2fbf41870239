/**
 * A real Prometheus (Debian's 2.42) for end-to-end tests: its own temp dir, a free loopback port, short
 * intervals, stopped by the test. Queries go through its HTTP API, as Grafana's would.
 */
import { join } from 'node:path';
import { startDaemon } from './daemon.ts';
import type { Daemon } from './daemon.ts';
import { pollUntil } from './poll.ts';

export interface PrometheusOptions {
  /** `job` → `host:port` of each scrape target. */
  readonly targets: Readonly<Record<string, string>>;
  readonly ruleFiles?: readonly string[];
  readonly alertmanagerUrl?: string;
  readonly scrapeInterval?: string;
  readonly evaluationInterval?: string;
}

export interface QueryResult {
  readonly resultType: string;
  readonly result: readonly { metric: Record<string, string>; value?: [number, string]; values?: [number, string][] }[];
}

export interface PrometheusServer {
  readonly url: string;
  /** An instant query; rejects with Prometheus's own error text when the expression does not parse. */
  query(expr: string): Promise<QueryResult>;
  /** A range query over the last `seconds`, at `step` seconds. */
  queryRange(expr: string, seconds: number, step: number): Promise<QueryResult>;
  /** Polls an instant query until the predicate holds or the deadline passes. */
  waitFor(
    expr: string,
    predicate: (result: QueryResult) => boolean,
    what: string,
    timeoutMs?: number,
  ): Promise<QueryResult>;
  /**
   * The values of a label among the series the selectors match (/api/v1/label/<name>/values), which is how
   * Grafana resolves a `label_values(selector, label)` template variable.
   */
  labelValues(label: string, selectors: readonly string[]): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startPrometheus(options: PrometheusOptions): Promise<PrometheusServer> {
  const daemon = await startDaemon({
    command: 'prometheus',
    files: { 'prometheus.yml': renderConfig(options) },
    args: (port, dir) => [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    readyPath: '/-/ready',
  });
  return buildServer(daemon);
}

function renderConfig(options: PrometheusOptions): string {
  const scrapeConfigs = Object.entries(options.targets)
    .map(
      ([job, target]) =>
        `  - job_name: ${JSON.stringify(job)}\n    static_configs:\n      - targets: [${JSON.stringify(target)}]\n`,
    )
    .join('');
  const rules = options.ruleFiles?.length
    ? `rule_files:\n${options.ruleFiles.map((f) => `  - ${JSON.stringify(f)}\n`).join('')}`
    : '';
  const alerting = options.alertmanagerUrl
    ? `alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: [${JSON.stringify(new URL(options.alertmanagerUrl).host)}]\n`
    : '';
  return `global:
  scrape_interval: ${options.scrapeInterval ?? '1s'}
  evaluation_interval: ${options.evaluationInterval ?? '1s'}
${rules}${alerting}scrape_configs:
${scrapeConfigs}`;
}

function buildServer(daemon: Daemon): PrometheusServer {
  const { url } = daemon;
  const api = async (path: string, params: Record<string, string>): Promise<QueryResult> => {
    const response = await fetch(`${url}${path}?${new URLSearchParams(params)}`, {
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await response.json()) as { status: string; data: QueryResult; error?: string };
    if (body.status !== 'success') throw new Error(`Prometheus rejected the query: ${body.error ?? response.status}`);
    return body.data;
  };
  const query = (expr: string) => api('/api/v1/query', { query: expr });
  return {
    url,
    query,
    queryRange(expr, seconds, step) {
      const end = Date.now() / 1000;
      return api('/api/v1/query_range', {
        query: expr,
        start: String(end - seconds),
        end: String(end),
        step: String(step),
      });
    },
    waitFor(expr, predicate, what, timeoutMs = 60_000) {
      return pollUntil(() => query(expr), predicate, {
        what: `${what} (${expr})`,
        timeoutMs,
        intervalMs: 500,
        describe: (result) => JSON.stringify(result.result),
      });
    },
    labelValues(label, selectors) {
      return fetchLabelValues(url, label, selectors);
    },
    stop: daemon.stop,
  };
}

async function fetchLabelValues(url: string, label: string, selectors: readonly string[]): Promise<string[]> {
  const params = new URLSearchParams(selectors.map((selector): [string, string] => ['match[]', selector]));
  const response = await fetch(`${url}/api/v1/label/${encodeURIComponent(label)}/values?${params}`, {
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await response.json()) as { status: string; data: string[]; error?: string };
  if (body.status !== 'success')
    throw new Error(`Prometheus rejected the label query: ${body.error ?? response.status}`);
  return body.data;
}
