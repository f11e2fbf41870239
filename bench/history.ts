/**
 * A year of exposure history for a 20,000-host fleet: the database's size on disk, the time each cycle spends
 * writing tickets at the start of the year and at its end (against the same cycle's snapshot and state file),
 * and /history latency for one tenant, through the store and over HTTP, at both ends.
 *
 * Run: npx node bench/history.ts [--hosts N] [--days N] (about 8 min), or --smoke (500 hosts, 30 days, ~2 s).
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { Agent, createServer, get } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseConfigText } from '../src/config/load.ts';
import { buildSnapshot } from '../src/exposure/snapshot.ts';
import type { Snapshot } from '../src/exposure/snapshot.ts';
import { HistoryRecorder } from '../src/history/history-recorder.ts';
import { planTicketChanges } from '../src/history/ticket-plan.ts';
import type { CycleCoverage } from '../src/history/ticket-plan.ts';
import { TicketStore } from '../src/history/ticket-store.ts';
import type { OpenTicket, TicketQuery } from '../src/history/ticket.ts';
import { createApp } from '../src/http/app.ts';
import { NO_INVENTORY, UNKNOWN_OWNER } from '../src/inventory/inventory.ts';
import type { AddressOwner, InventorySnapshot } from '../src/inventory/inventory.ts';
import { silentLogger } from '../src/log.ts';
import { createMetricsEndpoint } from '../src/metrics/collectors.ts';
import type { ObservedHost, ObservedPort } from '../src/scan/types.ts';
import { buildExporterConfig } from '../src/state/exporter-config.ts';
import type { ExporterConfig } from '../src/state/exporter-config.ts';
import { ExporterState } from '../src/state/exporter-state.ts';
import { saveState } from '../src/state/state-file.ts';
import type { StateFile } from '../src/state/state-file.ts';
import { createRandom } from '../test/support/random.ts';
import { scanResult } from '../test/support/snapshots.ts';
import { OTHER_PORTS, STANDARD_PORTS, buildFleetOwner } from './fleet.ts';
import {
  describeMachine,
  findMedian,
  formatCount,
  formatMiB,
  formatMs,
  formatRatio,
  printTable,
  readCpuMs,
  requireGc,
} from './measure.ts';

const FULL = { hosts: 20_000, days: 365, tenants: 200, realCycles: 24, queryRuns: 100 };
const SMOKE = { hosts: 500, days: 30, tenants: 10, realCycles: 3, queryRuns: 5 };
/** The first /17 of 198.18.0.0/15, which is set aside for benchmarks: nothing is scanned, the addresses are data. */
const TARGETS = '198.18.0.0/17';
const MAX_HOSTS = 32_768;
/** The default retention is 400 days: up to it, nothing is pruned and the table only grows. */
const MAX_DAYS = 400;
/** How many nonstandard ports a host has open, by weight: 1.25 on average, so 25,000 open tickets at 20,000 hosts. */
const EXPOSURE_WEIGHTS = [20, 45, 25, 10];
/** The share of the open exposures that close each cycle; as many others open, so the open count stays level. */
const CHURN = 0.005;
const INTERVAL_MS = 60 * 60 * 1000;
const SCAN_MS = 20 * 60 * 1000;
const YEAR_START = Date.parse('2026-01-01T00:00:00Z');
const DAY_MS = 24 * INTERVAL_MS;
const PAGE = 100;
/** The fill's commit times are compared over this many days at each end of it. */
const FILL_WINDOW_DAYS = 30;
const GOAL_GROWTH = 2;
const GOAL_PAGE_MS = 50;
const REQUEST_TIMEOUT_MS = 30_000;
/**
 * Unmeasured runs before each query's measured ones: the start's queries are the first this process ever runs,
 * and the JIT must not count against them.
 */
const WARM_UP_RUNS = 10;
const SEED = 8_760;

const CONFIG_YAML = `
scan:
  targets: ["${TARGETS}"]
  udp: {ports: none}
standard_ports: ["22/tcp", "80/tcp", "443/tcp"]
exceptions:
  - name: backup-rsync
    match: {ip: "198.18.0.0/19", ports: ["873/tcp"]}
    reason: approved in SEC-7
    expires: 2099-01-31
  - name: db-approved
    match: {tenant: tenant-7, vm_name: "db-*", ports: ["3306/tcp", "5432/tcp"]}
    reason: approved in SEC-123
    expires: 2099-01-31
`;

const BUILD = { version: '0.1.0', revision: 'bench', nodejsVersion: process.version, nmapVersion: '7.93' };

interface BenchOptions {
  readonly smoke: boolean;
  readonly hosts: number;
  readonly days: number;
  readonly tenants: number;
  /** Measured real cycles at each end of the year, each after one unmeasured cycle. */
  readonly realCycles: number;
  readonly queryRuns: number;
}

/** The scanned world, changed in place from cycle to cycle by one seeded generator. */
interface Fleet {
  readonly ips: readonly string[];
  readonly standard: readonly (readonly ObservedPort[])[];
  /** Each host's open nonstandard ports, as indexes into OTHER_PORTS. */
  readonly exposures: Set<number>[];
  readonly owners: ReadonlyMap<string, AddressOwner>;
  /** host × OTHER_PORTS.length + port of every exposure closed so far: opening one again reopens it. */
  readonly everClosed: Set<number>;
  readonly counts: { open: number; opened: number; reopened: number };
}

interface CycleTimes {
  readonly snapshotMs: number;
  readonly snapshotCpuMs: number;
  readonly stateMs: number;
  readonly historyMs: number;
  readonly historyCpuMs: number;
  /** One TicketStore.openTickets() after the cycle: HistoryRecorder.record reads the open tickets twice. */
  readonly openReadMs: number;
}

interface PhaseFigures {
  readonly label: string;
  readonly day: number;
  readonly tickets: number;
  readonly open: number;
  readonly reopened: number;
  readonly cycles: readonly CycleTimes[];
  readonly dbBytes: number;
  readonly walBytes: number;
  readonly queries: readonly QueryFigures[];
}

interface QueryFigures {
  readonly label: string;
  /** Undefined when there is no such page (a second page of a tenant with fewer than 100 tickets). */
  readonly rows: number | undefined;
  readonly ms: number;
  /**
   * Whether its end/start judges the indexes: a first page holds 100 tickets at both ends, while a tenant's
   * second page and closed tickets are fewer on day 1, so theirs is partly a page growing to its size.
   */
  readonly judged: boolean;
}

function readOptions(): BenchOptions {
  const { values } = parseArgs({
    options: { smoke: { type: 'boolean' }, hosts: { type: 'string' }, days: { type: 'string' } },
    strict: true,
  });
  const smoke = values.smoke ?? false;
  const base = smoke ? SMOKE : FULL;
  const hosts = readWhole(values.hosts, '--hosts', base.hosts, MAX_HOSTS);
  const days = readWhole(values.days, '--days', base.days, MAX_DAYS);
  if (days * 24 < 2 * (base.realCycles + 1) + 1) throw new Error(`--days ${days} is too short for the real cycles`);
  return { ...base, smoke, hosts, days, tenants: Math.min(base.tenants, hosts) };
}

function readWhole(text: string | undefined, flag: string, fallback: number, max: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new Error(`${flag} must be a whole number from 1 to ${max}, got ${JSON.stringify(text)}`);
  }
  return value;
}

// ---------------------------------------------------------------------------------------------------------------
// The fleet

function createFleet(options: BenchOptions, random: (limit: number) => number): Fleet {
  const ips: string[] = [];
  const standard: ObservedPort[][] = [];
  const exposures: Set<number>[] = [];
  const owners = new Map<string, AddressOwner>();
  let open = 0;
  for (let index = 0; index < options.hosts; index += 1) {
    const ip = `198.18.${index >> 8}.${index & 255}`;
    ips.push(ip);
    standard.push(STANDARD_PORTS.filter(() => random(2) === 0));
    const ports = new Set<number>();
    const count = pickWeighted(EXPOSURE_WEIGHTS, random);
    while (ports.size < count) ports.add(random(OTHER_PORTS.length));
    exposures.push(ports);
    open += count;
    owners.set(ip, buildOwner(index, options.tenants));
  }
  return { ips, standard, exposures, owners, everClosed: new Set(), counts: { open, opened: open, reopened: 0 } };
}

function pickWeighted(weights: readonly number[], random: (limit: number) => number): number {
  let roll = random(weights.reduce((sum, weight) => sum + weight, 0));
  for (const [value, weight] of weights.entries()) {
    if (roll < weight) return value;
    roll -= weight;
  }
  throw new Error('no weights');
}

/** A VM's owner, in one of `tenants` tenants rather than the fleet module's eight. */
function buildOwner(index: number, tenants: number): AddressOwner {
  const tenant = index % tenants;
  return {
    ...buildFleetOwner(index, { users: 2_000, emailDomain: 'example.org' }),
    tenant: `tenant-${tenant}`,
    tenantId: `5e1b7c2d9a4f4e0b8c3d6a1f${tenant.toString(16).padStart(8, '0')}`,
  };
}

function exposuresPerCycle(fleet: Fleet): number {
  return Math.max(1, Math.round(fleet.counts.open * CHURN));
}

/**
 * Closes `count` open exposures and opens as many, on random hosts; returns the hosts changed. An exposure
 * closed this cycle is not opened again in it, so the planner sees exactly `count` closings and openings.
 */
function moveExposures(fleet: Fleet, count: number, random: (limit: number) => number): Set<number> {
  const changed = new Set<number>();
  const closedNow = new Set<number>();
  const hostCount = fleet.ips.length;
  for (let move = 0; move < count; move += 1) {
    let host = random(hostCount);
    while (fleet.exposures[host]!.size === 0) host = random(hostCount);
    const open = fleet.exposures[host]!;
    const port = [...open][random(open.size)]!;
    open.delete(port);
    const key = host * OTHER_PORTS.length + port;
    fleet.everClosed.add(key);
    closedNow.add(key);
    changed.add(host);
  }
  let opened = 0;
  while (opened < count) {
    const host = random(hostCount);
    const open = fleet.exposures[host]!;
    const port = random(OTHER_PORTS.length);
    const key = host * OTHER_PORTS.length + port;
    if (open.has(port) || closedNow.has(key)) continue;
    open.add(port);
    if (fleet.everClosed.has(key)) fleet.counts.reopened += 1;
    changed.add(host);
    opened += 1;
  }
  fleet.counts.opened += count;
  return changed;
}

function observeHost(fleet: Fleet, host: number): ObservedHost {
  const others = [...fleet.exposures[host]!].sort((a, b) => a - b).map((port) => OTHER_PORTS[port]!);
  return { ip: fleet.ips[host]!, openPorts: [...fleet.standard[host]!, ...others] };
}

// ---------------------------------------------------------------------------------------------------------------
// The year

/** What every cycle shares: the config, the inventory, the recorder, and where the cycle is in the year. */
class SimulatedYear {
  readonly fleet: Fleet;
  readonly config: ExporterConfig;
  readonly inventory: InventorySnapshot;
  readonly recorder: HistoryRecorder;
  readonly stateFile: StateFile;
  readonly #random: (limit: number) => number;
  readonly #gc: () => void;
  readonly #coverage: CycleCoverage;
  readonly #ownerOf: (ip: string) => AddressOwner;
  /** The last cycle run, 1-based: cycle n finishes SCAN_MS after hour n - 1 of the year. */
  cycle = 0;
  #previous: Snapshot | undefined;
  #reader: TicketStore | undefined;

  constructor(options: BenchOptions, dir: string, gc: () => void) {
    this.#random = createRandom(SEED);
    this.#gc = gc;
    this.fleet = createFleet(options, this.#random);
    this.config = buildExporterConfig(parseConfigText(CONFIG_YAML, 'bench/history.ts'));
    const { owners } = this.fleet;
    this.inventory = { ...NO_INVENTORY, source: 'openstack', up: true, servers: owners.size, owners };
    this.recorder = new HistoryRecorder({
      path: join(dir, 'history.db'),
      settings: this.config.settings.history,
      log: silentLogger,
    });
    this.stateFile = { path: join(dir, 'state.json') };
    // A full sweep of the fleet: every open ticket whose port is gone is closed.
    this.#coverage = { tcp: (ip) => owners.has(ip), udp: undefined };
    this.#ownerOf = (ip) => owners.get(ip) ?? UNKNOWN_OWNER;
  }

  get finishedAt(): Date {
    return new Date(YEAR_START + (this.cycle - 1) * INTERVAL_MS + SCAN_MS);
  }

  /**
   * One cycle as the scheduler runs it once nmap is done: the snapshot from the whole fleet's scan, the state
   * file, then the history. `fresh` builds the snapshot without a previous one (firstSeen = now for every port),
   * as after a restart without state, so that a snapshot from before the fill dates no new ticket.
   */
  async runRealCycle(fresh = false): Promise<CycleTimes> {
    this.#advance();
    const hosts = this.fleet.ips.map((_, host) => observeHost(this.fleet, host)).filter((h) => h.openPorts.length > 0);
    const result = scanResult(hosts, this.finishedAt, {
      startedAt: new Date(this.finishedAt.getTime() - SCAN_MS),
      targets: MAX_HOSTS,
      hostsUp: this.fleet.ips.length,
    });
    const previous = fresh ? undefined : this.#previous;
    this.#gc();
    const started = performance.now();
    const startedCpu = readCpuMs();
    const snapshot = buildSnapshot({ result, inventory: this.inventory, rules: this.config.rules, previous });
    const built = performance.now();
    const builtCpu = readCpuMs();
    await saveState(this.stateFile, snapshot, this.finishedAt);
    const saved = performance.now();
    const savedCpu = readCpuMs();
    this.recorder.record({ snapshot, coverage: this.#coverage, ownerOf: this.#ownerOf });
    const recorded = performance.now();
    const recordedCpu = readCpuMs();
    this.#previous = snapshot;
    this.#checkRecorded();
    this.#reader ??= TicketStore.open(this.recorder.path);
    const reading = performance.now();
    this.#reader.openTickets();
    return {
      snapshotMs: built - started,
      snapshotCpuMs: builtCpu - startedCpu,
      stateMs: saved - built,
      historyMs: recorded - saved,
      historyCpuMs: recordedCpu - savedCpu,
      openReadMs: performance.now() - reading,
    };
  }

  close(): void {
    this.#reader?.close();
    this.recorder.close();
  }

  /**
   * The cycles between the two ends of the year, without a whole-fleet snapshot: only the hosts that changed
   * are built into a snapshot, planned by planTicketChanges against their open tickets (with a coverage of
   * just those hosts, so the plan is the one the whole snapshot would give) and committed by TicketStore.commit,
   * one transaction per cycle. Returns each commit's wall time.
   */
  runFill(cycles: number): Float64Array {
    const openByIp = new Map<string, OpenTicket[]>();
    for (const ticket of this.recorder.view.open) {
      const list = openByIp.get(ticket.ip);
      if (list) list.push(ticket);
      else openByIp.set(ticket.ip, [ticket]);
    }
    const commitMs = new Float64Array(cycles);
    const store = TicketStore.open(this.recorder.path);
    try {
      for (let fill = 0; fill < cycles; fill += 1) {
        const changed = this.#advance();
        const ips = new Set([...changed].map((host) => this.fleet.ips[host]!));
        const hosts = [...changed].map((host) => observeHost(this.fleet, host)).filter((h) => h.openPorts.length > 0);
        const at = this.finishedAt;
        const result = scanResult(hosts, at, { startedAt: new Date(at.getTime() - SCAN_MS), targets: MAX_HOSTS });
        const snapshot = buildSnapshot({
          result,
          inventory: this.inventory,
          rules: this.config.rules,
          previous: undefined,
        });
        const changes = planTicketChanges({
          open: [...ips].flatMap((ip) => openByIp.get(ip) ?? []),
          snapshot,
          coverage: { tcp: (ip) => ips.has(ip), udp: undefined },
          ownerOf: this.#ownerOf,
          at,
        });
        const expected = exposuresPerCycle(this.fleet);
        if (changes.opened.length !== expected || changes.closed.length !== expected || changes.updated.length > 0) {
          throw new Error(
            `fill cycle ${this.cycle}: planned ${changes.opened.length} openings, ${changes.closed.length} closings ` +
              `and ${changes.updated.length} updates, expected ${expected}, ${expected} and 0`,
          );
        }
        const started = performance.now();
        const ids = store.commit(changes);
        commitMs[fill] = performance.now() - started;
        const closed = new Set(changes.closed.map((closure) => closure.id));
        for (const ip of ips) {
          openByIp.set(
            ip,
            (openByIp.get(ip) ?? []).filter((ticket) => !closed.has(ticket.id)),
          );
        }
        changes.opened.forEach((opened, i) => {
          const id = ids[i]!;
          if (id < 0) throw new Error(`fill cycle ${this.cycle}: ${opened.ip} ${opened.port} already had a ticket`);
          // Every changed address has a list by now; the store reads an opening back as this.
          const { admittedBy, ...fields } = opened;
          openByIp.get(opened.ip)!.push({ ...fields, id, admittedByJson: JSON.stringify(admittedBy) });
        });
      }
    } finally {
      store.close();
    }
    return commitMs;
  }

  /** Moves the fleet on by one cycle (the very first cycle only finds it); returns the hosts changed. */
  #advance(): Set<number> {
    this.cycle += 1;
    return this.cycle === 1 ? new Set() : moveExposures(this.fleet, exposuresPerCycle(this.fleet), this.#random);
  }

  /** The recorder swallows a failing database (and would then look fast), so every cycle's write is checked. */
  #checkRecorded(): void {
    const { open, lastWriteSuccessful } = this.recorder.view;
    if (lastWriteSuccessful !== true) throw new Error(`cycle ${this.cycle}: the history write failed`);
    if (open.length !== this.fleet.counts.open) {
      throw new Error(`cycle ${this.cycle}: ${open.length} open tickets for ${this.fleet.counts.open} exposures`);
    }
    // Tickets are numbered in order and none is pruned, so the newest (opened this cycle) is the count of rows.
    const newest = open.reduce((max, ticket) => Math.max(max, ticket.id), 0);
    if (newest !== this.fleet.counts.opened) {
      throw new Error(`cycle ${this.cycle}: the newest ticket is ${newest}, ${this.fleet.counts.opened} were opened`);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// /history

/** The median of `runs` calls of `run`, after WARM_UP_RUNS unmeasured ones; `run` returns the rows it got. */
async function timeRuns(
  label: string,
  runs: number,
  run: () => number | Promise<number>,
  judged = false,
): Promise<QueryFigures> {
  const rows = await run();
  for (let i = 1; i < WARM_UP_RUNS; i += 1) await run();
  const times: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const started = performance.now();
    await run();
    times.push(performance.now() - started);
  }
  return { label, rows, ms: findMedian(times), judged };
}

async function measureQueries(year: SimulatedYear, tenant: string, runs: number): Promise<QueryFigures[]> {
  const { recorder } = year;
  const first: TicketQuery = { tenant, limit: PAGE };
  const next = recorder.query(first).next;
  const closed: TicketQuery = { tenant, state: 'closed', limit: PAGE };
  const figures = [
    await timeRuns('first page', runs, () => recorder.query(first).tickets.length, true),
    next === null
      ? { label: 'second page (after)', rows: undefined, ms: Number.NaN, judged: false }
      : await timeRuns('second page (after)', runs, () => recorder.query({ ...first, after: next }).tickets.length),
    await timeRuns('state=closed, first page', runs, () => recorder.query(closed).tickets.length),
  ];
  const server = await startServer(year);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const port = (server.address() as AddressInfo).port;
    const path = `/history?tenant=${encodeURIComponent(tenant)}`;
    figures.push(await timeRuns(`GET ${path}`, runs, () => fetchTickets(agent, port, path), true));
  } finally {
    agent.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  return figures;
}

/** The exporter's own routes on 127.0.0.1, with the recorder as /history's reader. */
async function startServer(year: SimulatedYear): Promise<Server> {
  const state = new ExporterState({ config: year.config, startedAt: new Date(YEAR_START) });
  const metrics = createMetricsEndpoint({ state, build: BUILD, processMetrics: false });
  const app = createApp({
    state,
    metrics,
    build: BUILD,
    log: silentLogger,
    reload: async () => {},
    history: year.recorder,
  });
  const server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/** One GET to the end of its body; returns the tickets in it. */
function fetchTickets(agent: Agent, port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = get({ host: '127.0.0.1', port, path, agent, timeout: REQUEST_TIMEOUT_MS }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      response.on('end', () => {
        if (response.statusCode !== 200) reject(new Error(`${path} answered ${response.statusCode}: ${body}`));
        else resolve((JSON.parse(body) as { tickets: unknown[] }).tickets.length);
      });
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    request.on('error', reject);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// The run

async function fileBytes(path: string): Promise<number> {
  return stat(path).then(
    (stats) => stats.size,
    () => 0,
  );
}

async function measurePhase(
  year: SimulatedYear,
  label: string,
  cycles: readonly CycleTimes[],
  options: BenchOptions,
): Promise<PhaseFigures> {
  const { fleet, recorder } = year;
  return {
    label,
    day: Math.ceil((year.cycle * INTERVAL_MS) / DAY_MS),
    tickets: fleet.counts.opened,
    open: fleet.counts.open,
    reopened: fleet.counts.reopened,
    cycles,
    dbBytes: await fileBytes(recorder.path),
    walBytes: await fileBytes(`${recorder.path}-wal`),
    queries: await measureQueries(year, queriedTenant(options), options.queryRuns),
  };
}

function queriedTenant(options: BenchOptions): string {
  return `tenant-${17 % options.tenants}`;
}

async function runRealCycles(year: SimulatedYear, count: number): Promise<CycleTimes[]> {
  // The first cycle of each end is left out: at the start it opens every ticket, at the end its snapshot has no
  // previous one, so every port is new to it.
  await year.runRealCycle(true);
  const cycles: CycleTimes[] = [];
  for (let i = 0; i < count; i += 1) cycles.push(await year.runRealCycle());
  return cycles;
}

/** Each figure's median over the cycles (so one cycle's collector pause does not set it). */
function findMedians(cycles: readonly CycleTimes[]): CycleTimes {
  const median = (read: (times: CycleTimes) => number): number => findMedian(cycles.map(read));
  return {
    snapshotMs: median((c) => c.snapshotMs),
    snapshotCpuMs: median((c) => c.snapshotCpuMs),
    stateMs: median((c) => c.stateMs),
    historyMs: median((c) => c.historyMs),
    historyCpuMs: median((c) => c.historyCpuMs),
    openReadMs: median((c) => c.openReadMs),
  };
}

interface FillFigures {
  readonly cycles: number;
  readonly commitMs: Float64Array;
  readonly seconds: number;
}

function printFigures(
  options: BenchOptions,
  year: SimulatedYear,
  phases: readonly [PhaseFigures, PhaseFigures],
  fill: FillFigures,
  dir: string,
): void {
  const churn = exposuresPerCycle(year.fleet);
  console.log(
    `history: ${formatCount(options.hosts)} hosts, ${options.tenants} tenants, ${options.days} days of hourly ` +
      `cycles (${formatCount(year.cycle)}), ${formatCount(year.fleet.counts.open)} open exposures, ${churn} ` +
      `closing and ${churn} opening per cycle; ${options.realCycles + 1} real cycles at each end, the ` +
      `${formatCount(fill.cycles)} between committed directly (${describeMachine()})`,
  );
  printDatabase(phases, fill, dir);
  const [first, last] = printCycles(phases, options);
  const queries = printQueries(phases, options);
  const slowest = Math.max(...queries.filter(([, atEnd]) => atEnd.rows !== undefined).map(([, atEnd]) => atEnd.ms));
  const pageGrowth = Math.max(...queries.filter(([atStart]) => atStart.judged).map(([s, e]) => e.ms / s.ms));
  const goals: [string, string, boolean][] = [
    [
      `history write per cycle at the end within ${GOAL_GROWTH}x of the start`,
      formatRatio(last.historyMs, first.historyMs),
      last.historyMs <= GOAL_GROWTH * first.historyMs,
    ],
    [
      `tenant first page at the end within ${GOAL_GROWTH}x of the start (store and HTTP, the larger)`,
      pageGrowth.toPrecision(3),
      pageGrowth <= GOAL_GROWTH,
    ],
    [
      `every tenant page under ${GOAL_PAGE_MS} ms at the end (the slowest)`,
      `${formatMs(slowest)} ms`,
      slowest < GOAL_PAGE_MS,
    ],
  ];
  for (const [goal, figure, met] of goals) console.log(`goal: ${goal}: ${figure}, ${met ? 'met' : 'NOT met'}`);
}

function printDatabase(phases: readonly PhaseFigures[], fill: FillFigures, dir: string): void {
  console.log(
    `database in ${dir} (journal_mode WAL, synchronous FULL); tickets are rows of the tickets table, ` +
      'none pruned (retention 400d)',
  );
  printTable([
    ['database', 'day', 'tickets', 'open', 'closed', 'reopened', 'history.db (MiB)', '-wal (MiB)', 'bytes/ticket'],
    ...phases.map((phase) => [
      phase.label,
      String(phase.day),
      formatCount(phase.tickets),
      formatCount(phase.open),
      formatCount(phase.tickets - phase.open),
      formatCount(phase.reopened),
      formatMiB(phase.dbBytes),
      formatMiB(phase.walBytes),
      formatCount(Math.round((phase.dbBytes + phase.walBytes) / phase.tickets)),
    ]),
  ]);
  const window = Math.min(FILL_WINDOW_DAYS * 24, Math.floor(fill.cycles / 2));
  const firstFill = findMedian(Array.from(fill.commitMs.subarray(0, window)));
  const lastFill = findMedian(Array.from(fill.commitMs.subarray(fill.cycles - window)));
  console.log(
    `fill: ${formatCount(fill.cycles)} cycles planned by planTicketChanges from the changed hosts and committed ` +
      `by TicketStore.commit, one transaction each, in ${fill.seconds.toFixed(1)} s; commit median ` +
      `${formatMs(firstFill)} ms over the first ${formatCount(window)} cycles, ${formatMs(lastFill)} ms over the ` +
      `last ${formatCount(window)} (last/first ${formatRatio(lastFill, firstFill)})`,
  );
}

/** Prints the per-cycle table; returns the medians at the start and at the end. */
function printCycles(phases: readonly PhaseFigures[], options: BenchOptions): [CycleTimes, CycleTimes] {
  console.log(
    `per cycle: medians of ${options.realCycles} real cycles; snapshot = buildSnapshot of the whole fleet, ` +
      'state file = saveState, history = HistoryRecorder.record; wall time unless CPU; tickets: rows in the table',
  );
  const medians = phases.map((phase) => findMedians(phase.cycles));
  printTable([
    [
      'cycles',
      'tickets',
      'snapshot (ms)',
      'snapshot CPU (ms)',
      'state file (ms)',
      'history (ms)',
      'history CPU (ms)',
      'open tickets read (ms)',
      'history/snapshot',
      'history/(snapshot+state)',
    ],
    ...phases.map((phase, i) => {
      const m = medians[i]!;
      return [
        phase.label,
        formatCount(phase.tickets),
        formatMs(m.snapshotMs),
        formatMs(m.snapshotCpuMs),
        formatMs(m.stateMs),
        formatMs(m.historyMs),
        formatMs(m.historyCpuMs),
        formatMs(m.openReadMs),
        formatRatio(m.historyMs, m.snapshotMs),
        formatRatio(m.historyMs, m.snapshotMs + m.stateMs),
      ];
    }),
  ]);
  const [first, last] = medians as [CycleTimes, CycleTimes];
  const ratio = (read: (m: CycleTimes) => number): string => formatRatio(read(last), read(first));
  console.log(
    `end/start: history ${ratio((m) => m.historyMs)} (CPU ${ratio((m) => m.historyCpuMs)}), ` +
      `snapshot ${ratio((m) => m.snapshotMs)} (CPU ${ratio((m) => m.snapshotCpuMs)}), ` +
      `state file ${ratio((m) => m.stateMs)}, open tickets read ${ratio((m) => m.openReadMs)}`,
  );
  return [first, last];
}

/** Prints the /history table; returns the pages found at both ends, start first. */
function printQueries(
  phases: readonly [PhaseFigures, PhaseFigures],
  options: BenchOptions,
): [QueryFigures, QueryFigures][] {
  const [start, end] = phases;
  console.log(
    `/history for ${queriedTenant(options)} (1 of ${options.tenants} tenants), ${PAGE} tickets a page: ` +
      `medians of ${options.queryRuns} runs after ${WARM_UP_RUNS} unmeasured`,
  );
  const rowsOf = (figures: QueryFigures): string => (figures.rows === undefined ? 'none' : String(figures.rows));
  const msOf = (figures: QueryFigures): string => (figures.rows === undefined ? 'n/a' : formatMs(figures.ms));
  const pairs = start.queries.map((atStart, i): [QueryFigures, QueryFigures] => [atStart, end.queries[i]!]);
  printTable([
    ['query', 'rows at start', 'rows at end', 'start (ms)', 'end (ms)', 'end/start'],
    ...pairs.map(([atStart, atEnd]) => [
      atStart.label,
      rowsOf(atStart),
      rowsOf(atEnd),
      msOf(atStart),
      msOf(atEnd),
      atStart.rows === undefined ? 'n/a' : formatRatio(atEnd.ms, atStart.ms),
    ]),
  ]);
  return pairs;
}

async function runBench(gc: () => void): Promise<void> {
  const options = readOptions();
  const began = performance.now();
  const dir = await mkdtemp(join(tmpdir(), 'ee-history-bench-'));
  const year = new SimulatedYear(options, dir, gc);
  try {
    const startCycles = await runRealCycles(year, options.realCycles);
    const start = await measurePhase(year, 'start', startCycles, options);
    const fillCycles = options.days * 24 - 2 * (options.realCycles + 1);
    const fillBegan = performance.now();
    const commitMs = year.runFill(fillCycles);
    const fillSeconds = (performance.now() - fillBegan) / 1000;
    const endCycles = await runRealCycles(year, options.realCycles);
    const end = await measurePhase(year, 'end', endCycles, options);
    printFigures(options, year, [start, end], { cycles: fillCycles, commitMs, seconds: fillSeconds }, dir);
    console.log(`run time: ${((performance.now() - began) / 1000).toFixed(0)} s`);
  } finally {
    year.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await runBench(requireGc(import.meta.url));
