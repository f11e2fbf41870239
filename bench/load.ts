/**
 * /metrics and /report under load, over TLS with basic auth, while a scan cycle is running and while one is hung.
 *
 * The built exporter (dist/main.js) serves a web config with TLS (throwaway certificates from openssl) and one
 * basic-auth user (a bcryptjs hash of cost 10), and scans only 127.0.0.1 through a fake nmap: `slow`
 * (test/fixtures/fake-nmap/) replays a recorded scan with pauses, so a cycle is running and reporting progress
 * for the whole measurement; `hang` writes nmap's prolog and then nothing, so the cycle is hung. First, one
 * `--once` run with the `instant` fake leaves a state file behind; each exporter starts from a copy, so it serves
 * a restored snapshot of 127.0.0.1 (four open ports, one of them an exposure) while its own first cycle runs.
 *
 * For each cycle state two such exporters run side by side, one with basic auth and one with TLS only, and
 * autocannon drives each path three ways, one right after the other:
 *   - cached: the right password. The bench sends one request first, which pays bcrypt once and fills the
 *     exporter's cache, so the measured requests are what Prometheus's scrapes cost: a SHA-256 and a lookup.
 *   - none: the exporter without basic_auth_users, the baseline for the cached row.
 *   - wrong password: never cached, so every request pays a full bcrypt check; all must be 401. This row is a
 *     number of requests (5 per connection, 2 with --smoke) rather than a window of time.
 * Each window checks, before and after, that the exporter's first cycle is still the one in progress. Beside
 * autocannon's figures, each row has the exporter's CPU time per request (from /proc), which a shared machine
 * stretches less than it stretches latency.
 *
 * Every request must succeed: no connection error, no timeout, no status other than 2xx (401 for the wrong
 * password); otherwise the figures are printed and the script exits 1. The load generator runs in this process
 * on the same machine, so on 2 cores it takes one core and the exporter the other.
 *
 * Run: npm run build && npx node bench/load.ts [--duration SECONDS] [--connections N]
 *      npx node bench/load.ts --smoke   (1 s and 2 connections per row: checks that the bench works, ~30 s)
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import bcrypt from 'bcryptjs';
import { makeTestCertificates } from '../test/support/certificates.ts';
import type { TestCertificates } from '../test/support/certificates.ts';
import { runExporter, startExporter } from '../test/support/exporter-process.ts';
import type { ExporterProcess } from '../test/support/exporter-process.ts';
import { parseExposition, sampleValue } from '../test/support/exposition.ts';
import { describeMachine, formatCount, formatRatio, printTable, readProcessCpuMs } from './measure.ts';

const MAIN = new URL('../dist/main.js', import.meta.url).pathname;
const FAKE_NMAP_DIR = new URL('../test/fixtures/fake-nmap/', import.meta.url).pathname;
const USER = 'prometheus';
const PASSWORD = 'correct horse battery staple';
const BCRYPT_COST = 10;
const PATHS = ['/metrics', '/report'] as const;
const CYCLE_STATES = ['running', 'hung'] as const;
/** autocannon's per-request deadline, in seconds: a wrong password queues behind every other bcrypt check. */
const REQUEST_TIMEOUT_S = 30;
const CHECK_TIMEOUT_MS = 30_000;
/** The slow fake pauses five times; each window gets this much beyond its duration for the checks around it. */
const WINDOW_SLACK_S = 3;
const SLOW_PAUSES = 5;
/** Seconds allowed per wrong-password request on each connection: the slowest seen here took 5 s, queued. */
const WRONG_PASSWORD_ALLOWANCE_S = 5;

type CycleState = (typeof CYCLE_STATES)[number];
type Path = (typeof PATHS)[number];
const AUTH_MODES = ['cached', 'none', 'wrong password'] as const;
type AuthMode = (typeof AUTH_MODES)[number];

interface LoadOptions {
  readonly durationS: number;
  readonly connections: number;
  /**
   * A wrong-password row is a number of requests, not a window: each costs a whole bcrypt check, so a 1 s window
   * on a busy machine may end before any is answered.
   */
  readonly wrongPasswordRequests: number;
}

interface Row {
  readonly cycle: CycleState;
  readonly path: Path;
  readonly auth: AuthMode;
  readonly result: autocannon.Result;
  /** The exporter's CPU time over the window, all threads, divided by the responses it sent. */
  readonly cpuMsPerRequest: number;
}

interface Workspace {
  readonly dir: string;
  readonly certs: TestCertificates;
  readonly authWebConfig: string;
  readonly openWebConfig: string;
  readonly seedState: string;
}

function readOptions(): LoadOptions {
  const { values } = parseArgs({
    options: { duration: { type: 'string' }, connections: { type: 'string' }, smoke: { type: 'boolean' } },
    strict: true,
  });
  const smoke = values.smoke ?? false;
  const connections = readPositiveInteger(values.connections, '--connections', smoke ? 2 : 10);
  return {
    durationS: readPositiveInteger(values.duration, '--duration', smoke ? 1 : 10),
    connections,
    wrongPasswordRequests: connections * (smoke ? 2 : 5),
  };
}

function readPositiveInteger(text: string | undefined, flag: string, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${flag} must be a positive integer, got ${JSON.stringify(text)}`);
  return value;
}

function basicAuthorization(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

function exporterConfig(nmap: string, statePath: string): string {
  return [
    'scan:',
    '  targets: ["127.0.0.1"]',
    '  udp: {ports: none}',
    '  nmap:',
    `    path: ${JSON.stringify(join(FAKE_NMAP_DIR, nmap))}`,
    'state:',
    `  path: ${JSON.stringify(statePath)}`,
    '',
  ].join('\n');
}

/** Certificates, the two web configs, and a state file from one completed scan of 127.0.0.1. */
async function prepareWorkspace(): Promise<Workspace> {
  const dir = await mkdtemp(join(tmpdir(), 'exposure-load-'));
  let certs: TestCertificates | undefined;
  try {
    certs = await makeTestCertificates();
    return await fillWorkspace(dir, certs);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    if (certs) await rm(certs.dir, { recursive: true, force: true });
    throw err;
  }
}

async function removeWorkspace(workspace: Workspace): Promise<void> {
  await rm(workspace.dir, { recursive: true, force: true });
  await rm(workspace.certs.dir, { recursive: true, force: true });
}

async function fillWorkspace(dir: string, certs: TestCertificates): Promise<Workspace> {
  const tls = ['tls_server_config:', `  cert_file: ${certs.server.certFile}`, `  key_file: ${certs.server.keyFile}`];
  const hash = await bcrypt.hash(PASSWORD, BCRYPT_COST);
  const authWebConfig = join(dir, 'web-auth.yml');
  const openWebConfig = join(dir, 'web-open.yml');
  await writeFile(authWebConfig, [...tls, 'basic_auth_users:', `  ${USER}: ${JSON.stringify(hash)}`, ''].join('\n'));
  await writeFile(openWebConfig, [...tls, ''].join('\n'));

  const seedState = join(dir, 'seed-state.json');
  const seedConfig = join(dir, 'seed.yml');
  await writeFile(seedConfig, exporterConfig('instant', seedState));
  const seeded = await runExporter(['--once', `--config.file=${seedConfig}`, '--log.level=warn']);
  if (seeded.code !== 0 || !existsSync(seedState)) {
    throw new Error(`the seeding --once run exited with ${seeded.code} and left no state file:\n${seeded.stderr}`);
  }
  return { dir, certs, authWebConfig, openWebConfig, seedState };
}

/** One HTTPS GET that verifies the exporter's certificate against the bench CA, with a deadline. */
function get(
  exporter: ExporterProcess,
  ca: string,
  path: string,
  authorization: string | undefined,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      new URL(path, exporter.baseUrl),
      { ca, agent: false, timeout: CHECK_TIMEOUT_MS, headers: authorization === undefined ? {} : { authorization } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** Whether a cycle is in progress, and how many have finished since the exporter started. */
async function readCycle(
  exporter: ExporterProcess,
  ca: string,
  authorization: string | undefined,
): Promise<{ inProgress: number; finished: number }> {
  const answer = await get(exporter, ca, '/metrics', authorization);
  if (answer.status !== 200) throw new Error(`GET /metrics answered ${answer.status}: ${answer.body.slice(0, 200)}`);
  const samples = parseExposition(answer.body);
  return {
    inProgress: sampleValue(samples, 'exposure_scan_in_progress'),
    finished:
      sampleValue(samples, 'exposure_scans_total', { result: 'success' }) +
      sampleValue(samples, 'exposure_scans_total', { result: 'failure' }),
  };
}

/** The measurement means nothing unless the exporter's first cycle is in progress from start to end. */
async function assertFirstCycleRunning(
  exporter: ExporterProcess,
  ca: string,
  authorization: string | undefined,
  when: string,
): Promise<void> {
  const cycle = await readCycle(exporter, ca, authorization);
  if (cycle.inProgress !== 1 || cycle.finished !== 0) {
    throw new Error(
      `${when}: expected the first cycle in progress, got exposure_scan_in_progress ${cycle.inProgress} after ${cycle.finished} finished cycles`,
    );
  }
}

async function measureWindow(
  exporter: ExporterProcess,
  options: LoadOptions,
  path: Path,
  authorization: string | undefined,
  extent: { readonly duration: number } | { readonly amount: number },
): Promise<{ result: autocannon.Result; cpuMsPerRequest: number }> {
  const pid = exporter.child.pid;
  if (pid === undefined) throw new Error('the exporter has no pid');
  const cpuBefore = await readProcessCpuMs(pid);
  const result = await autocannon({
    url: new URL(path, exporter.baseUrl).href,
    connections: options.connections,
    ...extent,
    timeout: REQUEST_TIMEOUT_S,
    headers: authorization === undefined ? {} : { authorization },
    // autocannon skips certificate checks (readCycle makes them). SNI gets a name: RFC 6066 allows no IP there,
    // and Node.js warns when given one.
    servername: 'localhost',
  });
  const cpuMs = (await readProcessCpuMs(pid)) - cpuBefore;
  return { result, cpuMsPerRequest: result.requests.total === 0 ? Number.NaN : cpuMs / result.requests.total };
}

/** An exporter whose first cycle is running (the slow fake) or hung, with the auth web config or TLS only. */
async function startKind(workspace: Workspace, cycle: CycleState, auth: 'basic' | 'none'): Promise<ExporterProcess> {
  const name = `${cycle}-${auth}`;
  const statePath = join(workspace.dir, `${name}-state.json`);
  await copyFile(workspace.seedState, statePath);
  const configPath = join(workspace.dir, `${name}.yml`);
  await writeFile(configPath, exporterConfig(cycle === 'running' ? 'slow' : 'hang', statePath));
  const webConfig = auth === 'basic' ? workspace.authWebConfig : workspace.openWebConfig;
  return startExporter([`--config.file=${configPath}`, `--web.config.file=${webConfig}`]);
}

/**
 * Both exporters of a cycle state run side by side, and a path's three rows are measured one right after the
 * other (cached, none, wrong password), so a cached row and its baseline see the same machine: on a shared one,
 * the load from elsewhere moves more between minutes than between seconds. Each exporter's first cycle is checked
 * before and after each of its rows.
 */
async function measureCycleState(workspace: Workspace, options: LoadOptions, cycle: CycleState): Promise<Row[]> {
  const started = await Promise.allSettled([startKind(workspace, cycle, 'basic'), startKind(workspace, cycle, 'none')]);
  const exporters = started.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
  try {
    const [secured, open] = started.map((outcome) => {
      if (outcome.status === 'rejected') throw outcome.reason;
      return outcome.value;
    });
    if (!secured || !open) throw new Error('two exporters were started');
    const ca = workspace.certs.ca;
    const right = basicAuthorization(USER, PASSWORD);
    const windows: readonly {
      auth: AuthMode;
      exporter: ExporterProcess;
      sent: string | undefined;
      check: string | undefined;
    }[] = [
      { auth: 'cached', exporter: secured, sent: right, check: right },
      { auth: 'none', exporter: open, sent: undefined, check: undefined },
      { auth: 'wrong password', exporter: secured, sent: basicAuthorization(USER, 'wrong'), check: right },
    ];
    // The first request with the right password pays bcrypt and fills the cache; these also warm the routes.
    for (const [exporter, check] of [
      [secured, right],
      [open, undefined],
    ] as const) {
      await assertFirstCycleRunning(exporter, ca, check, `${cycle} before the load`);
      for (const path of PATHS) await get(exporter, ca, path, check);
    }
    const rows: Row[] = [];
    for (const path of PATHS) {
      for (const window of windows) {
        const extent =
          window.auth === 'wrong password'
            ? { amount: options.wrongPasswordRequests }
            : { duration: options.durationS };
        const measured = await measureWindow(window.exporter, options, path, window.sent, extent);
        await assertFirstCycleRunning(window.exporter, ca, window.check, `${cycle} after ${window.auth} ${path}`);
        rows.push({ cycle, path, auth: window.auth, ...measured });
      }
    }
    return rows;
  } finally {
    await Promise.all(exporters.map((exporter) => exporter.stop()));
  }
}

/** What each row must show: every request answered, all 2xx, or all 401 for the wrong password. */
function findProblems(rows: readonly Row[]): string[] {
  const problems: string[] = [];
  for (const row of rows) {
    const { result } = row;
    const label = `${row.cycle} ${row.path} ${row.auth}`;
    const unauthorized = result.statusCodeStats?.['401']?.count ?? 0;
    if (result.requests.total === 0) problems.push(`${label}: no request was answered`);
    if (result.errors > 0 || result.timeouts > 0)
      problems.push(`${label}: ${result.errors} errors, ${result.timeouts} of them timeouts`);
    if (row.auth === 'wrong password') {
      if (unauthorized !== result.requests.total)
        problems.push(`${label}: ${unauthorized} of ${result.requests.total} responses were 401`);
    } else if (result.non2xx > 0) {
      problems.push(`${label}: ${result.non2xx} responses were not 2xx`);
    }
  }
  return problems;
}

/** Cycle state, then path, then cached beside its baseline, so the table reads as the comparison does. */
function compareRows(a: Row, b: Row): number {
  return (
    CYCLE_STATES.indexOf(a.cycle) - CYCLE_STATES.indexOf(b.cycle) ||
    PATHS.indexOf(a.path) - PATHS.indexOf(b.path) ||
    AUTH_MODES.indexOf(a.auth) - AUTH_MODES.indexOf(b.auth)
  );
}

/** autocannon's latency histogram counts whole milliseconds, so more digits would be noise. */
function formatLatency(ms: number): string {
  return ms.toFixed(0);
}

function printRows(options: LoadOptions, rows: readonly Row[]): void {
  console.log(
    `load: autocannon, ${options.connections} connections for ${options.durationS} s per row ` +
      `(${options.wrongPasswordRequests} requests for a wrong password), against node dist/main.js over TLS; ` +
      `basic auth with a bcryptjs hash of cost ${BCRYPT_COST}; scanning 127.0.0.1 with a fake nmap (${describeMachine()})`,
  );
  printTable([
    [
      'cycle',
      'path',
      'auth',
      'requests',
      'errors',
      'non-2xx',
      '401',
      'req/s',
      'p50 ms',
      'p90 ms',
      'p99 ms',
      'max ms',
      'CPU ms/req',
    ],
    ...[...rows].sort(compareRows).map((row) => {
      const { result } = row;
      return [
        row.cycle,
        row.path,
        row.auth,
        formatCount(result.requests.total),
        formatCount(result.errors),
        formatCount(result.non2xx),
        formatCount(result.statusCodeStats?.['401']?.count ?? 0),
        (result.requests.total / result.duration).toFixed(1),
        formatLatency(result.latency.p50),
        formatLatency(result.latency.p90),
        formatLatency(result.latency.p99),
        formatLatency(result.latency.max),
        row.cpuMsPerRequest.toFixed(3),
      ];
    }),
  ]);
}

/** Cached auth against no auth, and what a wrong password costs against a cached check, per cycle state and path. */
function printComparison(rows: readonly Row[]): void {
  const find = (cycle: CycleState, path: Path, auth: AuthMode): Row => {
    const row = rows.find(
      (candidate) => candidate.cycle === cycle && candidate.path === path && candidate.auth === auth,
    );
    if (!row) throw new Error(`no ${cycle} ${path} ${auth} row`);
    return row;
  };
  console.log('cached auth against no auth (the baseline), and the wrong password against cached auth:');
  const table: string[][] = [
    [
      'cycle',
      'path',
      'cached/none p50',
      'cached/none p99',
      'cached/none CPU',
      'wrong/cached CPU',
      'wrong/cached req/s',
    ],
  ];
  for (const cycle of CYCLE_STATES) {
    for (const path of PATHS) {
      const cached = find(cycle, path, 'cached');
      const none = find(cycle, path, 'none');
      const wrong = find(cycle, path, 'wrong password');
      const rate = (row: Row): number => row.result.requests.total / row.result.duration;
      table.push([
        cycle,
        path,
        formatRatio(cached.result.latency.p50, none.result.latency.p50),
        formatRatio(cached.result.latency.p99, none.result.latency.p99),
        formatRatio(cached.cpuMsPerRequest, none.cpuMsPerRequest),
        formatRatio(wrong.cpuMsPerRequest, cached.cpuMsPerRequest),
        formatRatio(rate(wrong), rate(cached)),
      ]);
    }
  }
  printTable(table);
}

async function main(): Promise<number> {
  const options = readOptions();
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first`);
  // The slow fake reads its pause from the environment the exporter hands on to nmap: long enough that the
  // first cycle outlasts every window of its cycle state (it is stopped with the exporter).
  const windows = PATHS.length * (AUTH_MODES.length - 1);
  const wrongPasswordRowS = (options.wrongPasswordRequests / options.connections) * WRONG_PASSWORD_ALLOWANCE_S;
  const cycleS = windows * (options.durationS + WINDOW_SLACK_S) + PATHS.length * wrongPasswordRowS;
  process.env['FAKE_NMAP_PAUSE_SECONDS'] = String(Math.ceil(cycleS / SLOW_PAUSES) + 1);
  const workspace = await prepareWorkspace();
  try {
    const rows: Row[] = [];
    for (const cycle of CYCLE_STATES) rows.push(...(await measureCycleState(workspace, options, cycle)));
    printRows(options, rows);
    printComparison(rows);
    const problems = findProblems(rows);
    for (const problem of problems) console.log(`FAIL: ${problem}`);
    return problems.length === 0 ? 0 : 1;
  } finally {
    await removeWorkspace(workspace);
  }
}

process.exitCode = await main();
