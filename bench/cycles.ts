/**
 * Memory and time must stay flat over thousands of cycles. Runs 5,000 scan cycles in this process over a
 * synthetic fleet whose open ports move a little every cycle, doing per cycle what the exporter does after nmap
 * returns: build the snapshot against the previous one, swap it into the ExporterState, render /metrics, the
 * /report JSON and the state file. Cycle 100 is the baseline; every 1,000 cycles after it the heap (after a full
 * collection) and the per-cycle time are printed with their ratio to the baseline.
 *
 * Run: npx node bench/cycles.ts [hosts] (re-runs itself with --expose-gc). The fleet defaults to 150 hosts: a cycle
 * costs about 0.04 ms per host on a 2-core machine, so 500 hosts take about two minutes for 5,000 cycles, and this
 * bench is meant to finish well inside one.
 */
import { parseConfigText } from '../src/config/load.ts';
import { buildExporterConfig } from '../src/state/exporter-config.ts';
import type { ExporterConfig } from '../src/state/exporter-config.ts';
import { ExporterState } from '../src/state/exporter-state.ts';
import { NO_INVENTORY } from '../src/inventory/inventory.ts';
import type { AddressOwner, InventorySnapshot } from '../src/inventory/inventory.ts';
import { buildReport } from '../src/report/report.ts';
import { buildSnapshot } from '../src/exposure/snapshot.ts';
import { renderState } from '../src/state/state-file.ts';
import { createMetricsEndpoint } from '../src/metrics/collectors.ts';
import type { MetricsEndpoint } from '../src/metrics/collectors.ts';
import type { ObservedHost, ObservedPort, ScanResult } from '../src/scan/types.ts';
import { recordCompletedCycle, scanResult } from '../test/support/snapshots.ts';
import { OTHER_PORTS, STANDARD_PORTS, buildFleetOwner } from './fleet.ts';
import { createRandom } from '../test/support/random.ts';
import {
  describeMachine,
  findMedian,
  formatCount,
  formatMiB,
  formatMs,
  formatRatio,
  measureRetainedHeap,
  printTable,
  readCpuMs,
  requireGc,
} from './measure.ts';

const CYCLES = 5_000;
const DEFAULT_HOST_COUNT = 150;
/** Two /24s of documentation addresses, as the config's targets say. */
const MAX_HOST_COUNT = 500;
const BASELINE_CYCLE = 100;
const CHECKPOINT_EVERY = 1_000;
/** A checkpoint's per-cycle time is the median of the cycles up to it, so one collector pause does not set it. */
const TIME_WINDOW = 100;
/** Hosts that close one port and open another each cycle: opened and closed changes without the fleet growing. */
const MOVES_PER_CYCLE = 5;
/** Hosts nmap gives up on each cycle, whose ports the snapshot carries over from the previous one. */
const TIMED_OUT_PER_CYCLE = 2;
const INTERVAL_MS = 60 * 60 * 1000;
const SCAN_MS = 20 * 60 * 1000;
const FIRST_CYCLE_AT = Date.parse('2026-11-26T00:00:00Z');
const SEED = 5_000;

const CONFIG_YAML = `
scan:
  targets: ["203.0.113.0/24", "198.51.100.0/24"]
  # The TCP scan alone is what this bench measures; the UDP pass is measured by bench/udp-verify.ts.
  udp: {ports: none}
standard_ports: ["22/tcp", "80/tcp", "443/tcp"]
severity_overrides:
  "8080/tcp": medium
exceptions:
  - name: shop-db-approved
    match: {tenant: shop, vm_name: "db-*", ports: ["3306/tcp", "5432/tcp"]}
    reason: approved in SEC-123
    expires: 2099-01-31
  - name: backup-rsync
    match: {ip: "203.0.113.0/26", ports: ["873/tcp"]}
    reason: approved in SEC-7
    expires: 2099-01-31
openstack:
  cloud: bench
`;

const BUILD = { version: '0.1.0', revision: 'bench', nodejsVersion: process.version, nmapVersion: '7.93' };

/** Open ports a cloud's VMs typically show: the standard ones first, then the others. */
const PORT_POOL: readonly ObservedPort[] = [...STANDARD_PORTS, ...OTHER_PORTS];

/** The scanned world: each host's open ports as indexes into PORT_POOL, changed in place from cycle to cycle. */
interface Fleet {
  readonly ips: readonly string[];
  readonly openPorts: Set<number>[];
  readonly owners: ReadonlyMap<string, AddressOwner>;
}

interface Exporter {
  readonly config: ExporterConfig;
  readonly state: ExporterState;
  readonly metrics: MetricsEndpoint;
}

interface Checkpoint {
  readonly cycle: number;
  readonly heapBytes: number;
  readonly wallMs: number;
  readonly cpuMs: number;
}

function createExporter(): Exporter {
  const config = buildExporterConfig(parseConfigText(CONFIG_YAML, 'bench/cycles.ts'));
  const state = new ExporterState({ config, startedAt: new Date(FIRST_CYCLE_AT) });
  // One endpoint for the whole run, as the exporter registers its metrics once and renders them per scrape.
  return { config, state, metrics: createMetricsEndpoint({ state, build: BUILD, processMetrics: false }) };
}

/** The optional first argument; anything but a whole number from 1 to MAX_HOST_COUNT is refused. */
function readHostCount(argument: string | undefined): number {
  if (argument === undefined) return DEFAULT_HOST_COUNT;
  const count = Number(argument);
  if (!Number.isInteger(count) || count < 1 || count > MAX_HOST_COUNT) {
    throw new Error(`hosts must be a whole number from 1 to ${MAX_HOST_COUNT}, got ${JSON.stringify(argument)}`);
  }
  return count;
}

function createFleet(hostCount: number, random: (limit: number) => number): Fleet {
  const ips = Array.from({ length: hostCount }, (_, i) => (i < 250 ? `203.0.113.${i + 1}` : `198.51.100.${i - 249}`));
  const openPorts = ips.map(() => {
    const count = 1 + random(4);
    const open = new Set<number>();
    while (open.size < count) open.add(random(PORT_POOL.length));
    return open;
  });
  const owners = new Map(ips.map((ip, i) => [ip, buildOwner(i)]));
  return { ips, openPorts, owners };
}

function buildOwner(index: number): AddressOwner {
  return buildFleetOwner(index, { users: 40, emailDomain: 'example.test' });
}

/** Closes one open port and opens one closed port on a few hosts, so the number of open ports stays the same. */
function movePorts(fleet: Fleet, random: (limit: number) => number): void {
  for (let move = 0; move < MOVES_PER_CYCLE; move += 1) {
    const open = fleet.openPorts[random(fleet.ips.length)]!;
    const closing = [...open][random(open.size)]!;
    let opening = random(PORT_POOL.length);
    while (open.has(opening)) opening = random(PORT_POOL.length);
    open.delete(closing);
    open.add(opening);
  }
}

function observeFleet(fleet: Fleet, cycle: number, random: (limit: number) => number): ScanResult {
  const timedOut = new Set(Array.from({ length: TIMED_OUT_PER_CYCLE }, () => fleet.ips[random(fleet.ips.length)]!));
  const hosts: ObservedHost[] = fleet.ips.flatMap((ip, i) =>
    timedOut.has(ip) ? [] : [{ ip, openPorts: [...fleet.openPorts[i]!].map((index) => PORT_POOL[index]!) }],
  );
  return scanResult(hosts, new Date(FIRST_CYCLE_AT + cycle * INTERVAL_MS + SCAN_MS), {
    startedAt: new Date(FIRST_CYCLE_AT + cycle * INTERVAL_MS),
    targets: 512,
    // Up hosts without open ports are counted by nmap but never listed.
    hostsUp: fleet.ips.length + 37,
    timedOutHosts: [...timedOut],
  });
}

function readInventory(fleet: Fleet, syncedAt: Date): InventorySnapshot {
  return { ...NO_INVENTORY, source: 'openstack', up: true, syncedAt, servers: fleet.ips.length, owners: fleet.owners };
}

/** The exporter's work for one completed scan; returns the characters it rendered, which must never be 0. */
async function runCycle(
  exporter: Exporter,
  cycle: number,
  result: ScanResult,
  inventory: InventorySnapshot,
): Promise<number> {
  const { config, state, metrics } = exporter;
  const snapshot = buildSnapshot({ result, inventory, rules: config.rules, previous: state.snapshot });
  recordCompletedCycle(
    state,
    {
      cycle,
      scope: 'sweep',
      addressesScanned: result.targets,
      startedAt: result.startedAt,
      finishedAt: result.finishedAt,
      success: true,
      error: null,
    },
    snapshot,
  );
  const exposition = await metrics.render();
  const report = JSON.stringify(buildReport(state, {}, result.finishedAt));
  const saved = renderState(snapshot, result.finishedAt);
  return exposition.length + report.length + saved.length;
}

function isCheckpoint(cycle: number): boolean {
  return cycle === BASELINE_CYCLE || cycle % CHECKPOINT_EVERY === 0;
}

async function runCycles(
  gc: () => void,
  hostCount: number,
): Promise<{ checkpoints: Checkpoint[]; exporter: Exporter; rendered: number }> {
  const random = createRandom(SEED);
  const fleet = createFleet(hostCount, random);
  const exporter = createExporter();
  // Preallocated so the record of times does not itself grow the heap being watched.
  const wallMs = new Float64Array(CYCLES + 1);
  const cpuMs = new Float64Array(CYCLES + 1);
  const checkpoints: Checkpoint[] = [];
  let rendered = 0;
  for (let cycle = 1; cycle <= CYCLES; cycle += 1) {
    movePorts(fleet, random);
    const result = observeFleet(fleet, cycle, random);
    const inventory = readInventory(fleet, result.finishedAt);
    const started = performance.now();
    const startedCpu = readCpuMs();
    const characters = await runCycle(exporter, cycle, result, inventory);
    wallMs[cycle] = performance.now() - started;
    cpuMs[cycle] = readCpuMs() - startedCpu;
    if (characters === 0) throw new Error(`cycle ${cycle} rendered nothing`);
    rendered += characters;
    if (isCheckpoint(cycle)) {
      const findWindowMedian = (times: Float64Array): number =>
        findMedian(Array.from(times.subarray(cycle - TIME_WINDOW + 1, cycle + 1)));
      checkpoints.push({
        cycle,
        heapBytes: measureRetainedHeap(gc),
        wallMs: findWindowMedian(wallMs),
        cpuMs: findWindowMedian(cpuMs),
      });
    }
  }
  return { checkpoints, exporter, rendered };
}

/** The changes must really have happened, or a flat line would only show that nothing was done. */
function assertChanges(exporter: Exporter): void {
  const { opened, closed } = exporter.state.health.scan.changes;
  if (opened < CYCLES || closed < CYCLES) {
    throw new Error(`only ${opened} ports opened and ${closed} closed over ${CYCLES} cycles`);
  }
}

function printFigures(
  hostCount: number,
  checkpoints: readonly Checkpoint[],
  exporter: Exporter,
  rendered: number,
): void {
  const baseline = checkpoints[0];
  const last = checkpoints.at(-1);
  if (baseline === undefined || last === undefined) throw new Error('no checkpoints');
  const { opened, closed } = exporter.state.health.scan.changes;
  const ports = exporter.state.snapshot?.hosts.reduce((sum, host) => sum + host.ports.length, 0) ?? 0;
  console.log(
    `cycles: ${formatCount(CYCLES)} cycles of ${hostCount} hosts (${ports} open ports in the last), ` +
      `${formatCount(opened)} ports opened and ${formatCount(closed)} closed in all, ` +
      `${formatCount(Math.round(rendered / CYCLES))} characters of metrics, report and state per cycle ` +
      `(${describeMachine()})`,
  );
  console.log(
    `heap: heapUsed after a full gc; per-cycle wall and CPU (all threads) time: ` +
      `medians of the ${TIME_WINDOW} cycles up to each checkpoint`,
  );
  printTable([
    ['cycle', 'heap (MiB)', 'heap/baseline', 'wall/cycle (ms)', 'wall/baseline', 'CPU/cycle (ms)', 'CPU/baseline'],
    ...checkpoints.map((point) => [
      formatCount(point.cycle),
      formatMiB(point.heapBytes),
      formatRatio(point.heapBytes, baseline.heapBytes),
      formatMs(point.wallMs),
      formatRatio(point.wallMs, baseline.wallMs),
      formatMs(point.cpuMs),
      formatRatio(point.cpuMs, baseline.cpuMs),
    ]),
  ]);
  const settled = checkpoints.find((point) => point.cycle === CHECKPOINT_EVERY) ?? baseline;
  const growth = last.heapBytes - settled.heapBytes;
  // The first checkpoints still include one-off growth (optimised code, caches reaching their size); a leak is
  // what keeps growing after them, so it is also given per cycle.
  console.log(
    `heap change from cycle ${formatCount(settled.cycle)} to ${formatCount(last.cycle)}: ${formatMiB(growth)} MiB ` +
      `(${(growth / (last.cycle - settled.cycle)).toFixed(0)} bytes per cycle)`,
  );
  console.log(
    `last/baseline: heap ${formatRatio(last.heapBytes, baseline.heapBytes)}, ` +
      `per-cycle wall time ${formatRatio(last.wallMs, baseline.wallMs)}, ` +
      `per-cycle CPU time ${formatRatio(last.cpuMs, baseline.cpuMs)}`,
  );
}

async function runBench(gc: () => void): Promise<void> {
  const hostCount = readHostCount(process.argv[2]);
  const { checkpoints, exporter, rendered } = await runCycles(gc, hostCount);
  assertChanges(exporter);
  printFigures(hostCount, checkpoints, exporter, rendered);
}

await runBench(requireGc(import.meta.url));
