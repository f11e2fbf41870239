/**
 * A real Prometheus (Debian's 2.42) for end-to-end tests: its own temp dir, a free loopback port, short
 * intervals, stopped by the test. Queries go through its HTTP API, as Grafana's would.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePort } from './free-port.ts';

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
  waitFor(expr: string, predicate: (result: QueryResult) => boolean, what: string, timeoutMs?: number): Promise<QueryResult>;
  /**
   * The values of a label among the series the selectors match (/api/v1/label/<name>/values), which is how
   * Grafana resolves a `label_values(selector, label)` template variable.
   */
  labelValues(label: string, selectors: readonly string[]): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startPrometheus(options: PrometheusOptions): Promise<PrometheusServer> {
  const dir = await mkdtemp(join(tmpdir(), 'ee-prometheus-'));
  const port = await findFreePort();
  const config = renderConfig(options);
  await writeFile(join(dir, 'prometheus.yml'), config);
  const child = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  const server = buildServer(url, child, dir);
  try {
    await waitUntilReady(url, child, () => stderr);
  } catch (err) {
    await server.stop();
    throw err;
  }
  return server;
}

function renderConfig(options: PrometheusOptions): string {
  const scrapeConfigs = Object.entries(options.targets)
    .map(([job, target]) => `  - job_name: ${JSON.stringify(job)}\n    static_configs:\n      - targets: [${JSON.stringify(target)}]\n`)
    .join('');
  const rules = options.ruleFiles?.length ? `rule_files:\n${options.ruleFiles.map((f) => `  - ${JSON.stringify(f)}\n`).join('')}` : '';
  const alerting = options.alertmanagerUrl
    ? `alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: [${JSON.stringify(new URL(options.alertmanagerUrl).host)}]\n`
    : '';
  return `global:
  scrape_interval: ${options.scrapeInterval ?? '1s'}
  evaluation_interval: ${options.evaluationInterval ?? '1s'}
${rules}${alerting}scrape_configs:
${scrapeConfigs}`;
}

function buildServer(url: string, child: ChildProcess, dir: string): PrometheusServer {
  const api = async (path: string, params: Record<string, string>): Promise<QueryResult> => {
    const response = await fetch(`${url}${path}?${new URLSearchParams(params)}`, { signal: AbortSignal.timeout(10_000) });
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
      return api('/api/v1/query_range', { query: expr, start: String(end - seconds), end: String(end), step: String(step) });
    },
    async waitFor(expr, predicate, what, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const result = await query(expr);
        if (predicate(result)) return result;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (${expr}): ${JSON.stringify(result.result)}`);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    },
    labelValues(label, selectors) {
      return fetchLabelValues(url, label, selectors);
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function fetchLabelValues(url: string, label: string, selectors: readonly string[]): Promise<string[]> {
  const params = new URLSearchParams(selectors.map((selector): [string, string] => ['match[]', selector]));
  const response = await fetch(`${url}/api/v1/label/${encodeURIComponent(label)}/values?${params}`, { signal: AbortSignal.timeout(10_000) });
  const body = (await response.json()) as { status: string; data: string[]; error?: string };
  if (body.status !== 'success') throw new Error(`Prometheus rejected the label query: ${body.error ?? response.status}`);
  return body.data;
}

async function waitUntilReady(url: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}: ${stderr()}`);
    const ready = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2000) }).then((r) => r.ok, () => false);
    if (ready) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`prometheus was not ready within 30 s: ${stderr()}`);
}
