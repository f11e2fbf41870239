/**
 * /metrics must cost the same whatever the number of series. Builds one 20,000-host snapshot (about 8,200
 * nonstandard ports, every host owned by a VM) and serves it through the real HTTP app on 127.0.0.1:0 twice,
 * each time in a child process of its own so that each server's memory is its own:
 *
 * - cached: the exporter as it ships: the snapshot's families rendered to bytes and compressed once, the live
 *   part rendered by prom-client and compressed per scrape;
 * - prom-client: the baseline, every family rendered by prom-client at every scrape (as the exporter did before
 *   the cache), compressed per scrape when gzip is asked for.
 *
 * Both serve the same metrics in the same order; the script checks that their expositions are byte-identical
 * before it measures. This process scrapes each server in turn over one keep-alive connection, without and
 * with `Accept-Encoding: gzip`, and prints latency percentiles, body sizes and the server's RSS after a full GC.
 *
 * Run: npx node bench/scrape.ts [--hosts N] [--scrapes N]
 *      npx node bench/scrape.ts --smoke   (500 hosts, 20 scrapes: checks that the script and its parts work)
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { Agent, createServer, get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs, promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { Registry } from 'prom-client';
import { parseConfigText } from '../src/config/load.ts';
import { buildExporterConfig } from '../src/state/exporter-config.ts';
import { ExporterState } from '../src/state/exporter-state.ts';
import { NO_INVENTORY } from '../src/inventory/inventory.ts';
import type { AddressOwner } from '../src/inventory/inventory.ts';
import { buildSnapshot } from '../src/exposure/snapshot.ts';
import { createApp } from '../src/http/app.ts';
import { keepYoungGenerationSmall } from '../src/young-generation.ts';
import { silentLogger } from '../src/log.ts';
import { createMetricsEndpoint, listSnapshotFamilies, registerLiveMetrics } from '../src/metrics/collectors.ts';
import type { BuildInfo, MetricsEndpoint } from '../src/metrics/collectors.ts';
import { registerGaugeFamily } from '../src/metrics/gauges.ts';
import type { ObservedHost } from '../src/scan/types.ts';
import { createRandom } from '../test/support/random.ts';
import { OTHER_PORTS, STANDARD_PORTS, buildFleetOwner } from './fleet.ts';
import { recordCompletedCycle, scanResult } from '../test/support/snapshots.ts';
import { describeMachine, formatCount, formatMiB, formatMs, formatRatio, printTable } from './measure.ts';

const DEFAULT_HOSTS = 20_000;
const DEFAULT_SCRAPES = 200;
const SMOKE_HOSTS = 500;
const SMOKE_SCRAPES = 20;
/** 198.18.0.0/15 is set aside for benchmarks; nothing here is scanned, the addresses only label series. */
const TARGETS = '198.18.0.0/17';
const MAX_HOSTS = 32_768;
/** Scrapes before the measured ones: the first one after a swap renders the cache, and the JIT warms up. */
const WARM_UP_SCRAPES = 3;
const SCRAPE_TIMEOUT_MS = 60_000;
const SEED = 20_000;
const FINISHED_AT = '2026-11-26T01:00:41.200Z';

const CONFIG_YAML = `
scan:
  targets: ["${TARGETS}"]
  # The TCP scan alone is what this bench measures; the UDP pass is measured by bench/udp-verify.ts.
  udp: {ports: none}
standard_ports: ["22/tcp", "80/tcp", "443/tcp"]
exceptions:
  - name: backup-rsync
    match: {ip: "198.18.0.0/19", ports: ["873/tcp"]}
    reason: approved in SEC-7
    expires: 2099-01-31
  - name: shop-db-approved
    match: {tenant: shop, vm_name: "db-*", ports: ["3306/tcp", "5432/tcp"]}
    reason: approved in SEC-123
    expires: 2099-01-31
`;

const BUILD: BuildInfo = { version: '0.1.0', revision: 'bench', nodejsVersion: process.version, nmapVersion: '7.93' };

/**
 * Chance that a host with a standard port also has one other port (a host without one always has one): about
 * 8,200 of 20,000 hosts then show a port outside the standard ones, as in the fleet the slow scrapes came from.
 */
const OTHER_PORT_PERCENT = 33;

type Variant = 'cached' | 'prom-client';
const VARIANTS: readonly Variant[] = ['cached', 'prom-client'];

interface BenchOptions {
  readonly hosts: number;
  readonly scrapes: number;
  readonly smoke: boolean;
}

/** What a server child reports once it has rendered its first exposition. */
interface ServingMessage {
  readonly port: number;
}

/** What a server child reports when asked, after the scrapes. */
interface MemoryMessage {
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly maxRssBytes: number;
  /** After the snapshot was built and collected, before any scrape: what the scrapes add is the difference. */
  readonly rssBeforeScrapesBytes: number;
}

interface ScrapeFigures {
  readonly firstMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly bytes: number;
}

interface VariantFigures {
  readonly identity: ScrapeFigures;
  readonly gzip: ScrapeFigures;
  readonly memory: MemoryMessage;
}

function readOptions(args: readonly string[]): BenchOptions & { serve: Variant | undefined } {
  const { values } = parseArgs({
    args: [...args],
    options: {
      hosts: { type: 'string' },
      scrapes: { type: 'string' },
      smoke: { type: 'boolean' },
      serve: { type: 'string' },
    },
    strict: true,
  });
  const smoke = values.smoke ?? false;
  const hosts = readPositiveInteger(values.hosts, '--hosts', smoke ? SMOKE_HOSTS : DEFAULT_HOSTS);
  if (hosts > MAX_HOSTS)
    throw new Error(`--hosts must be at most ${MAX_HOSTS} (the addresses of ${TARGETS}), got ${hosts}`);
  const scrapes = readPositiveInteger(values.scrapes, '--scrapes', smoke ? SMOKE_SCRAPES : DEFAULT_SCRAPES);
  const serve = values.serve;
  if (serve !== undefined && !VARIANTS.includes(serve as Variant))
    throw new Error(`--serve must be one of ${VARIANTS.join(', ')}, got ${serve}`);
  return { hosts, scrapes, smoke, serve: serve as Variant | undefined };
}

function readPositiveInteger(text: string | undefined, flag: string, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${flag} must be a positive integer, got ${JSON.stringify(text)}`);
  return value;
}

// ---------------------------------------------------------------------------------------------------------------
// The fleet: the same one in every process, from a seeded generator

function buildState(hosts: number): ExporterState {
  const config = buildExporterConfig(parseConfigText(CONFIG_YAML, 'bench/scrape.ts'));
  const random = createRandom(SEED);
  const observed: ObservedHost[] = [];
  const owners = new Map<string, AddressOwner>();
  for (let index = 0; index < hosts; index += 1) {
    const ip = `198.18.${Math.floor(index / 256)}.${index % 256}`;
    const openPorts = STANDARD_PORTS.filter(() => random(2) === 0);
    if (openPorts.length === 0 || random(100) < OTHER_PORT_PERCENT)
      openPorts.push(OTHER_PORTS[random(OTHER_PORTS.length)]!);
    observed.push({ ip, openPorts });
    owners.set(ip, buildOwner(index));
  }
  const snapshot = buildSnapshot({
    result: scanResult(observed, FINISHED_AT, { targets: 32_768, hostsUp: hosts }),
    inventory: {
      ...NO_INVENTORY,
      source: 'openstack',
      up: true,
      syncedAt: new Date(FINISHED_AT),
      servers: hosts,
      owners,
    },
    rules: config.rules,
    previous: undefined,
  });
  const state = new ExporterState({ config, startedAt: new Date('2026-11-26T00:00:00Z') });
  const { startedAt, finishedAt } = snapshot.scan;
  recordCompletedCycle(
    state,
    { cycle: 1, scope: 'sweep', addressesScanned: hosts, startedAt, finishedAt, success: true, error: null },
    snapshot,
  );
  return state;
}

function buildOwner(index: number): AddressOwner {
  return buildFleetOwner(index, { users: 400, emailDomain: 'example.org' });
}

// ---------------------------------------------------------------------------------------------------------------
// The two endpoints

const compress = promisify(gzip);

/** The baseline: the same families in the same order, all on one prom-client registry rendered at each scrape. */
function createPromClientEndpoint(state: ExporterState, processMetrics: boolean): MetricsEndpoint {
  const registry = new Registry();
  for (const family of listSnapshotFamilies({ build: BUILD, config: state.config })) {
    registerGaugeFamily(registry, family, () => ({ snapshot: state.snapshot, config: state.config }));
  }
  const observeOpenStackRequest = registerLiveMetrics(registry, { state, processMetrics });
  const renderBody = async ({ gzip: compressed }: { gzip: boolean }): Promise<readonly Buffer[]> => {
    const text = Buffer.from(await registry.metrics(), 'utf8');
    return [compressed ? await compress(text) : text];
  };
  return {
    contentType: registry.contentType,
    renderBody,
    render: async () => Buffer.concat(await renderBody({ gzip: false })).toString('utf8'),
    observeOpenStackRequest,
  };
}

function createEndpoint(variant: Variant, state: ExporterState, processMetrics: boolean): MetricsEndpoint {
  return variant === 'cached'
    ? createMetricsEndpoint({ state, build: BUILD, processMetrics })
    : createPromClientEndpoint(state, processMetrics);
}

/** Both must serve the same bytes, or the comparison would be of different work. Process metrics left out: they move. */
async function assertSameExposition(
  state: ExporterState,
): Promise<{ bytes: number; samples: number; portOpen: number }> {
  const [cached, baseline] = await Promise.all(
    VARIANTS.map((variant) => createEndpoint(variant, state, false).render()),
  );
  if (cached !== baseline) throw new Error('the cached and the prom-client expositions differ');
  const lines = cached!.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
  return {
    bytes: Buffer.byteLength(cached!),
    samples: lines.length,
    portOpen: lines.filter((line) => line.startsWith('exposure_port_open{')).length,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// A server child

async function serve(variant: Variant, hosts: number): Promise<void> {
  // As main.ts does at start, before anything is allocated: the server as it ships.
  keepYoungGenerationSmall();
  const gc = globalThis.gc;
  if (gc === undefined) throw new Error('the server child needs --expose-gc');
  const state = buildState(hosts);
  const metrics = createEndpoint(variant, state, true);
  const server = createServer(createApp({ state, metrics, build: BUILD, log: silentLogger, reload: async () => {} }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  // The snapshot is built before the first scrape, as the exporter has it before Prometheus asks.
  gc();
  const rssBeforeScrapesBytes = process.memoryUsage().rss;
  process.on('message', (message: string) => {
    if (message === 'memory') {
      gc();
      const { rss, heapUsed } = process.memoryUsage();
      const maxRssBytes = process.resourceUsage().maxRSS * 1024;
      process.send!({
        rssBytes: rss,
        heapUsedBytes: heapUsed,
        maxRssBytes,
        rssBeforeScrapesBytes,
      } satisfies MemoryMessage);
    } else if (message === 'stop') {
      server.close(() => process.disconnect());
      server.closeAllConnections();
    }
  });
  process.send!({ port: (server.address() as AddressInfo).port } satisfies ServingMessage);
}

// ---------------------------------------------------------------------------------------------------------------
// The scraping parent

function startServer(variant: Variant, hosts: number): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(import.meta.filename, ['--serve', variant, '--hosts', String(hosts)], {
    execArgv: [...process.execArgv, '--expose-gc'],
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the ${variant} server exited with ${code} before it served`)));
    child.once('message', (message: ServingMessage) => resolve({ child, port: message.port }));
  });
}

function ask<T>(child: ChildProcess, message: string): Promise<T> {
  return new Promise((resolve) => {
    child.once('message', (answer: T) => resolve(answer));
    child.send(message);
  });
}

/** One GET, timed from the request to the last byte of the body. */
function scrape(agent: Agent, port: number, headers: Record<string, string>): Promise<{ ms: number; bytes: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const request = get(
      { host: '127.0.0.1', port, path: '/metrics', agent, headers, timeout: SCRAPE_TIMEOUT_MS },
      (response) => {
        let bytes = 0;
        response.on('data', (chunk: Buffer) => (bytes += chunk.length));
        response.on('end', () => {
          if (response.statusCode !== 200) reject(new Error(`/metrics answered ${response.statusCode}`));
          else resolve({ ms: performance.now() - started, bytes });
        });
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error(`no answer within ${SCRAPE_TIMEOUT_MS} ms`)));
    request.on('error', reject);
  });
}

async function measureScrapes(
  agent: Agent,
  port: number,
  headers: Record<string, string>,
  scrapes: number,
): Promise<ScrapeFigures> {
  const first = await scrape(agent, port, headers);
  for (let i = 1; i < WARM_UP_SCRAPES; i += 1) await scrape(agent, port, headers);
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < scrapes; i += 1) {
    const result = await scrape(agent, port, headers);
    times.push(result.ms);
    bytes = result.bytes;
  }
  times.sort((a, b) => a - b);
  return { firstMs: first.ms, p50Ms: findPercentile(times, 0.5), p99Ms: findPercentile(times, 0.99), bytes };
}

/** Nearest rank on sorted values: the p99 of 200 scrapes is the second slowest. */
function findPercentile(sorted: readonly number[], fraction: number): number {
  const value = sorted[Math.max(0, Math.ceil(fraction * sorted.length) - 1)];
  if (value === undefined) throw new Error('percentile of no values');
  return value;
}

async function measureVariant(variant: Variant, options: BenchOptions): Promise<VariantFigures> {
  const { child, port } = await startServer(variant, options.hosts);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    // gzip first: Prometheus always asks for it, so its first scrape is the one that meets a fresh snapshot.
    const gzipFigures = await measureScrapes(agent, port, { 'Accept-Encoding': 'gzip' }, options.scrapes);
    const identity = await measureScrapes(agent, port, {}, options.scrapes);
    const memory = await ask<MemoryMessage>(child, 'memory');
    return { identity, gzip: gzipFigures, memory };
  } finally {
    agent.destroy();
    child.send('stop');
    await new Promise((resolve) => child.once('exit', resolve));
  }
}

function printFigures(
  options: BenchOptions,
  exposition: { bytes: number; samples: number; portOpen: number },
  figures: Record<Variant, VariantFigures>,
): void {
  const { cached, 'prom-client': baseline } = figures;
  console.log(
    `scrape: ${formatCount(options.hosts)} hosts, ${formatCount(exposition.portOpen)} exposure_port_open series, ` +
      `${formatCount(exposition.samples)} samples, ${formatMiB(exposition.bytes)} MiB of exposition without process metrics; ` +
      `${options.scrapes} scrapes of each kind after ${WARM_UP_SCRAPES} warm-up (${describeMachine()})`,
  );
  const row = (label: string, read: (f: VariantFigures) => number, format: (n: number) => string): string[] => [
    label,
    format(read(cached)),
    format(read(baseline)),
    formatRatio(read(cached), read(baseline)),
  ];
  const kib = (bytes: number): string => formatCount(Math.round(bytes / 1024));
  printTable([
    ['', 'cached', 'prom-client', 'cached/prom-client'],
    row('first gzip scrape (ms)', (f) => f.gzip.firstMs, formatMs),
    row('gzip p50 (ms)', (f) => f.gzip.p50Ms, formatMs),
    row('gzip p99 (ms)', (f) => f.gzip.p99Ms, formatMs),
    row('identity p50 (ms)', (f) => f.identity.p50Ms, formatMs),
    row('identity p99 (ms)', (f) => f.identity.p99Ms, formatMs),
    row('gzip body (KiB)', (f) => f.gzip.bytes, kib),
    row('identity body (KiB)', (f) => f.identity.bytes, kib),
    row('server RSS before scrapes (MiB)', (f) => f.memory.rssBeforeScrapesBytes, formatMiB),
    row('server RSS after gc (MiB)', (f) => f.memory.rssBytes, formatMiB),
    row('server heap after gc (MiB)', (f) => f.memory.heapUsedBytes, formatMiB),
    row('server peak RSS (MiB)', (f) => f.memory.maxRssBytes, formatMiB),
  ]);
}

async function runBench(options: BenchOptions): Promise<void> {
  const exposition = await assertSameExposition(buildState(options.hosts));
  const figures = {} as Record<Variant, VariantFigures>;
  for (const variant of VARIANTS) figures[variant] = await measureVariant(variant, options);
  printFigures(options, exposition, figures);
  if (options.smoke) console.log('scrape smoke run: both servers answered every scrape with the same exposition');
}

const options = readOptions(process.argv.slice(2));
if (options.serve) await serve(options.serve, options.hosts);
else await runBench(options);
