/**
 * What one scan cycle does, top to bottom: inventory → targets → TCP scan → UDP pass → join and classify →
 * verification → snapshot. When a cycle runs, its bound and its health are the scheduler's (scheduler.ts).
 */
import { hasInventory } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import { buildKnownTargets } from '../scan/scan-plan.ts';
import type { ObservedHost, ScanJob, ScanResult, ScanTargets, Scanner } from '../scan/types.ts';
import type { Clock } from './clock.ts';
import type { ExporterConfig } from './exporter-config.ts';
import type { InventoryRefresher } from './inventory-refresher.ts';
import type { InventorySnapshot } from './inventory.ts';
import { applyDetections, listVerifyPairs, previousDetections, previousUdpHosts } from './pass-results.ts';
import { isUdpPassDue, mergeHosts } from './scan-passes.ts';
import type { CycleContext, PassRunner, PassRuns, UdpTargets } from './scan-passes.ts';
import { buildSnapshot, listFoundAddresses } from './snapshot.ts';
import type { CycleScope, Snapshot } from './snapshot.ts';
import { listKnownAddresses } from './sweep-schedule.ts';

/** One cycle: its config (as at its start), what it scans, its deadline and whether --once asked for every pass. */
export interface CycleRun {
  readonly config: ExporterConfig;
  readonly scope: CycleScope;
  readonly context: CycleContext & { readonly everyPass: boolean };
  readonly log: Logger;
}

/** What a cycle works with. Read as they are when needed: a reload or an inventory read may land mid-cycle. */
export interface CycleParts {
  readonly scanner: Scanner;
  readonly passes: PassRunner;
  readonly clock: Clock;
  readonly inventory?: Pick<InventoryRefresher, 'ensureFresh'> | undefined;
  /** The configured inventories as one, as they are now. */
  readonly joinedInventory: (config: ExporterConfig) => InventorySnapshot;
  /** The snapshot being served, which this cycle's is built on. */
  readonly previous: () => Snapshot | undefined;
  readonly onTargets: (count: number) => void;
  readonly onProgress: (ratio: number) => void;
}

/**
 * The cycle's snapshot. A known cycle's addresses are taken after the inventory is refreshed, so a VM created
 * since the last read is scanned in this cycle already; the join uses the inventory as it is when the scans end.
 */
export async function runScanCycle(run: CycleRun, parts: CycleParts): Promise<Snapshot> {
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
      // In a sweep with an inventory only the addresses it names are known to be in use; without one, every
      // address is counted, and in a known cycle every address scanned is known.
      addressesSilent: countSilent(
        tcp.silentHosts,
        udp.silentHosts,
        scope === 'sweep' && hasInventory(config.settings) ? inventory.owners : undefined,
      ),
    },
    scanned: (address) => config.plan.targets.contains(address),
    passes: udp.run && { udp: udp.run },
  });
  if (!config.settings.scan.verify.enabled) return snapshot;
  return runVerifyPass(parts, config, snapshot, previous, context);
}

/** A sweep scans this replica's share of the targets; a known cycle the inventory's and the last sweep's finds. */
function selectTargets(
  config: ExporterConfig,
  scope: CycleScope,
  inventory: InventorySnapshot,
  previous: Snapshot | undefined,
): ScanTargets {
  if (scope === 'sweep') return config.plan.targets;
  return buildKnownTargets(config.plan, listKnownAddresses(inventory, previous?.sweep));
}

/**
 * What the UDP pass scans: the cycle's addresses, except in a sweep with an inventory. There the inventory's
 * addresses and what the sweep's TCP scan found are scanned, not the whole targets again: the sweep already
 * paid for the silent addresses, and a second round would buy only hosts no inventory knows with no TCP port.
 */
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
}

/**
 * The UDP ports this cycle's snapshot holds: a new run's when one is due and succeeds (with the previous
 * ports of hosts it gave up on), else the previous snapshot's. None when the pass is off.
 */
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
  return { run: outcome.run, hosts: mergeHosts(outcome.result.hosts, kept), silentHosts: outcome.result.silentHosts };
}

/** Verification of the snapshot's open nonstandard ports; pairs a failed run did not reach keep what they had. */
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

/**
 * What one cycle asks the scanner for: built in this one place from the config current at cycle start. The
 * targets are the plan's sweep targets unless a known cycle passes its own (built by buildKnownTargets).
 * Known addresses are never host-discovered: the inventory already proves them in use, and a security group
 * that admits one port drops every discovery probe.
 */
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

/**
 * The counted addresses (all, or those `known` names) that answered no TCP probe and, when the UDP pass ran
 * this cycle over the same addresses, no UDP probe either.
 */
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
