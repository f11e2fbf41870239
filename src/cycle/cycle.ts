// One scan cycle, top to bottom: inventory → targets → TCP scan → UDP pass → join and classify → verification →
// snapshot. When it runs, its bound, its health and history are the scheduler's.
import { hasInventory } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import { buildKnownTargets } from '../targets/scan-plan.ts';
import type { ObservedHost, ScanJob, ScanResult, Scanner } from '../scan/types.ts';
import type { ScanTargets } from '../targets/scan-targets.ts';
import type { Clock } from '../clock.ts';
import type { ExporterConfig } from '../state/exporter-config.ts';
import type { InventoryRefresher } from './inventory-refresher.ts';
import type { InventorySnapshot } from '../inventory/inventory.ts';
import { applyDetections, listVerifyPairs, previousDetections, previousUdpHosts } from '../exposure/pass-results.ts';
import { isUdpPassDue, mergeHosts } from '../scan/scan-passes.ts';
import type { CycleContext, PassRunner, PassRuns, UdpTargets } from '../scan/scan-passes.ts';
import { buildSnapshot, listFoundAddresses } from '../exposure/snapshot.ts';
import type { CycleScope, Snapshot } from '../exposure/snapshot.ts';
import { listKnownAddresses } from './sweep-schedule.ts';
import type { CycleCoverage } from '../history/ticket-plan.ts';

export interface CycleRun {
  readonly config: ExporterConfig;
  readonly scope: CycleScope;
  readonly context: CycleContext & { readonly everyPass: boolean };
  readonly log: Logger;
}

/** Read when needed, not once at start: a reload or an inventory read may land mid-cycle. */
export interface CycleParts {
  readonly scanner: Scanner;
  readonly passes: PassRunner;
  readonly clock: Clock;
  readonly inventory?: Pick<InventoryRefresher, 'ensureFresh'> | undefined;
  readonly joinedInventory: (config: ExporterConfig) => InventorySnapshot;
  readonly previous: () => Snapshot | undefined;
  readonly onTargets: (count: number) => void;
  readonly onProgress: (ratio: number) => void;
}

/**
 * `coverage`: the addresses scanned with each protocol, the only ones whose tickets may close; `inventory`: the
 * one the snapshot was joined with, which names the owners of the tickets it closes.
 */
export interface CycleResult {
  readonly snapshot: Snapshot;
  readonly coverage: CycleCoverage;
  readonly inventory: InventorySnapshot;
}

// A known cycle's addresses are taken after the inventory is refreshed, so a VM created since the last read is
// scanned in this cycle already; the join uses the inventory as it is when the scans end.
export async function runScanCycle(run: CycleRun, parts: CycleParts): Promise<CycleResult> {
  const { config, scope, context, log } = run;
  await parts.inventory?.ensureFresh();
  const targets = selectTargets(config, scope, parts.joinedInventory(config), parts.previous());
  parts.onTargets(targets.count());
  const tcp = await parts.scanner.scan(buildScanJob(config, targets, scope), {
    signal: context.signal,
    onProgress: parts.onProgress,
  });
  logIncompleteScan(tcp, log);
  const previous = parts.previous();
  const udpTargets = selectUdpTargets(config, scope, targets, tcp, parts.joinedInventory(config));
  const udp = await runUdpPass(parts.passes, config, udpTargets, context, previous);
  const inventory = parts.joinedInventory(config);
  const snapshot = buildSnapshot({
    result: { ...tcp, hosts: mergeHosts(tcp.hosts, udp.hosts) },
    inventory,
    rules: config.rules,
    previous,
    cycle: {
      scope,
      targets: config.plan.targets.count(),
      // A sweep with an inventory counts only the addresses it names as in use; otherwise every scanned one counts.
      addressesSilent: countSilent(
        tcp.silentHosts,
        udp.silentHosts,
        scope === 'sweep' && hasInventory(config.settings) ? inventory.owners : undefined,
      ),
    },
    scanned: (address) => config.plan.targets.contains(address),
    passes: udp.run && { udp: udp.run },
  });
  const coverage = { tcp: scannedBy(targets, tcp), udp: udp.scanned };
  if (!config.settings.scan.verify.enabled) return { snapshot, coverage, inventory };
  return { snapshot: await runVerifyPass(parts, config, snapshot, previous, context), coverage, inventory };
}

/** The addresses a run covered: what it was handed, less the hosts nmap gave up on. */
function scannedBy(targets: ScanTargets, result: ScanResult): (ip: string) => boolean {
  const gaveUp = new Set(result.timedOutHosts);
  return (ip) => targets.contains(ip) && !gaveUp.has(ip);
}

function selectTargets(
  config: ExporterConfig,
  scope: CycleScope,
  inventory: InventorySnapshot,
  previous: Snapshot | undefined,
): ScanTargets {
  if (scope === 'sweep') return config.plan.targets;
  return buildKnownTargets(config.plan, listKnownAddresses(inventory, previous?.sweep));
}

// A sweep with an inventory sends UDP only the inventory's addresses and the TCP finds: the sweep already paid for
// the silent addresses, and a second round would buy only hosts no inventory knows with no TCP port.
function selectUdpTargets(
  config: ExporterConfig,
  scope: CycleScope,
  targets: ScanTargets,
  tcp: ScanResult,
  inventory: InventorySnapshot,
): UdpTargets {
  if (scope !== 'sweep') return { targets, hostDiscovery: false };
  if (!hasInventory(config.settings)) return { targets, hostDiscovery: config.settings.scan.hostDiscovery };
  const found = { upAddresses: listFoundAddresses(tcp) };
  return { targets: buildKnownTargets(config.plan, listKnownAddresses(inventory, found)), hostDiscovery: false };
}

interface UdpPassResult {
  readonly run: PassRuns['udp'];
  readonly hosts: ObservedHost[];
  readonly silentHosts?: readonly string[];
  /** Set when a UDP run completed this cycle. */
  readonly scanned?: (ip: string) => boolean;
}

// A new run's ports when one is due and succeeds (with the previous ports of hosts it gave up on), else the last.
async function runUdpPass(
  passes: PassRunner,
  config: ExporterConfig,
  udpTargets: UdpTargets,
  context: CycleRun['context'],
  previous: Snapshot | undefined,
): Promise<UdpPassResult> {
  const udp = config.settings.scan.udp;
  if (!udp) return { run: undefined, hosts: [] };
  const last = previous?.passes?.udp;
  if (!context.everyPass && !isUdpPassDue(last, context.startedAt, udp.intervalMs)) {
    return { run: last, hosts: previousUdpHosts(previous) };
  }
  const outcome = await passes.runUdp(config, udpTargets, context, last);
  if (!outcome.result) return { run: outcome.run, hosts: previousUdpHosts(previous) };
  const kept = previousUdpHosts(previous, new Set(outcome.result.timedOutHosts));
  return {
    run: outcome.run,
    hosts: mergeHosts(outcome.result.hosts, kept),
    silentHosts: outcome.result.silentHosts,
    scanned: scannedBy(udpTargets.targets, outcome.result),
  };
}

async function runVerifyPass(
  parts: Pick<CycleParts, 'passes' | 'clock'>,
  config: ExporterConfig,
  snapshot: Snapshot,
  previous: Snapshot | undefined,
  context: CycleContext,
): Promise<Snapshot> {
  const pairs = listVerifyPairs(snapshot);
  const outcome = await parts.passes.runVerify(config, pairs, context, previous?.passes?.verify);
  const detections = outcome.run.success
    ? outcome.detections
    : new Map([...previousDetections(previous, pairs), ...outcome.detections]);
  const verified = { ...snapshot, passes: { ...snapshot.passes, verify: outcome.run } };
  return applyDetections(verified, detections, config.rules, parts.clock.now());
}

// Known addresses are never host-discovered: the inventory already proves them in use, and a security group that
// admits one port drops every discovery probe.
export function buildScanJob(
  config: ExporterConfig,
  targets: ScanTargets = config.plan.targets,
  scope: CycleScope = 'sweep',
): ScanJob {
  const { scan } = config.settings;
  return {
    nmapPath: scan.nmapPath,
    targets,
    ports: config.plan.ports,
    scanType: scan.scanType,
    hostDiscovery: scope === 'sweep' && scan.hostDiscovery,
    tuning: scan.tuning,
  };
}

/** The counted addresses (all, or those `known` names) silent to TCP and, when UDP ran over them, to UDP too. */
export function countSilent(
  tcpSilent: readonly string[],
  udpSilent: readonly string[] | undefined,
  known?: ReadonlyMap<string, unknown>,
): number {
  const silentToUdp = udpSilent && new Set(udpSilent);
  return tcpSilent.filter((ip) => (!known || known.has(ip)) && (!silentToUdp || silentToUdp.has(ip))).length;
}

function logIncompleteScan(result: ScanResult, log: Logger): void {
  if (result.timedOutHosts.length > 0) {
    log.warn('nmap gave up on hosts; keeping their previous ports', {
      hosts: result.timedOutHosts.length,
      first: result.timedOutHosts[0],
    });
  }
  if (result.skippedTargets > 0) log.warn('nmap could not route to some targets', { targets: result.skippedTargets });
}
