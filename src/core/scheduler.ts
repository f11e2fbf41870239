/**
 * Runs scan cycles: the first at start, then one every scan.interval after the previous one started, never two
 * at once. With an inventory a cycle scans the known addresses, or sweeps the whole targets when a sweep is due
 * (sweep-schedule.ts); a sweep that runs past scan.interval delays the next cycle, as any long cycle does. Each
 * cycle gets an AbortSignal that fires at its bound (scan.timeout, or scan.sweep_timeout for a sweep between
 * known cycles) or at shutdown. The scheduler alone
 * records scan health; the scanner and the inventory only return results or throw (node_exporter's
 * collector/scheduler split).
 */
import { hasInventory } from '../config/schema.ts';
import { ExporterError, describeError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { buildKnownTargets } from '../scan/scan-plan.ts';
import type { ScanJob, ScanOptions, ScanResult, ScanTargets, Scanner } from '../scan/types.ts';
import { countRejections } from '../scan/output-checks.ts';
import { systemClock } from './clock.ts';
import type { Clock, TimerHandle } from './clock.ts';
import type { ExporterConfig } from './exporter-config.ts';
import type { ExporterState } from './exporter-state.ts';
import {
  completeCycle,
  failCycle,
  mergeInventories,
  recordRejectedOutput,
  reportProgress,
  startCycle,
} from './health.ts';
import type { CycleAttempt, ScanHealth } from './health.ts';
import type { InventoryRefresher } from './inventory-refresher.ts';
import type { InventorySnapshot } from './inventory.ts';
import { buildSnapshot, listFoundAddresses } from './snapshot.ts';
import type { CycleScope, Snapshot } from './snapshot.ts';
import { chooseCycleScope, listKnownAddresses } from './sweep-schedule.ts';
import { PassRunner, isUdpPassDue, mergeHosts } from './scan-passes.ts';
import type { CycleContext, PassRuns, UdpTargets } from './scan-passes.ts';
import { applyDetections, listVerifyPairs, previousDetections, previousUdpHosts } from './pass-results.ts';
import type { ObservedHost } from '../scan/types.ts';

export interface SchedulerOptions {
  readonly scanner: Scanner;
  readonly state: ExporterState;
  readonly log: Logger;
  /** Persists each new snapshot; a failure is logged, the cycle's results are still served. */
  readonly persist: (snapshot: Snapshot) => Promise<void>;
  /** Absent without an inventory: exposures then carry empty owner labels. With both, one that refreshes both. */
  readonly inventory?: Pick<InventoryRefresher, 'ensureFresh'>;
  readonly clock?: Clock;
}

/** A cycle as the passes see it, and whether --once asked for every pass whatever is due. */
type SchedulerCycle = CycleContext & { readonly everyPass: boolean };

export type CycleOutcome = { ran: false } | { ran: true; success: boolean };

export class CycleScheduler {
  readonly #options: SchedulerOptions;
  readonly #clock: Clock;
  readonly #stopping = new AbortController();
  readonly #passes: PassRunner;
  readonly #scanner: Scanner;
  #cycle = 0;
  #running: Promise<CycleOutcome> | undefined;
  #timer: TimerHandle | undefined;
  #lastStart: Date | undefined;

  constructor(options: SchedulerOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#scanner = { scan: (job, scanOptions) => this.#scanChecked(job, scanOptions) };
    this.#passes = new PassRunner({ scanner: this.#scanner, clock: this.#clock, log: options.log });
  }

  /** Every nmap run of a cycle, its pass's too: what its output had that was dropped is counted and logged. */
  async #scanChecked(job: ScanJob, options: ScanOptions): Promise<ScanResult> {
    const result = await this.#options.scanner.scan(job, options);
    if (countRejections(result.rejected) > 0) {
      this.#recordScan((scan) => recordRejectedOutput(scan, result.rejected));
      const { notAnAddress, outsideTargets, invalidText, examples } = result.rejected;
      this.#options.log.warn("dropped what nmap's output should not hold", {
        not_an_address: notAnAddress,
        outside_targets: outsideTargets,
        invalid_text: invalidText,
        first: examples.join(' '),
      });
    }
    return result;
  }

  /** Starts the first cycle now and keeps scheduling until stop(). */
  start(): void {
    void this.#runAndSchedule();
  }

  /**
   * Runs one cycle unless one is already running (then it reports ran: false and starts nothing). The scope
   * is the schedule's unless given, and so is whether the UDP pass is due unless `everyPass` asks for all:
   * --once asks for a sweep with every pass, whatever the state file says ran when.
   */
  runCycle(options: { scope?: CycleScope; everyPass?: boolean } = {}): Promise<CycleOutcome> {
    if (this.#running) return Promise.resolve({ ran: false });
    if (this.#stopping.signal.aborted) return Promise.resolve({ ran: false });
    this.#running = this.#runGuarded(options.scope, options.everyPass ?? false).finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /** After a reload: the next cycle is due one (possibly new) interval after the last one started. */
  reschedule(): void {
    if (this.#timer === undefined) return;
    this.#clock.clearTimeout(this.#timer);
    this.#scheduleNext();
  }

  /** Cancels the running cycle (nmap is killed) and waits for it to end. */
  async stop(): Promise<void> {
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#stopping.abort(new ExporterError('NMAP_ABORTED', 'the exporter is shutting down'));
    await this.#running;
  }

  async #runAndSchedule(): Promise<void> {
    await this.runCycle();
    if (!this.#stopping.signal.aborted) this.#scheduleNext();
  }

  #scheduleNext(): void {
    const interval = this.#options.state.config.settings.scan.intervalMs;
    const due = (this.#lastStart?.getTime() ?? 0) + interval;
    const delay = Math.max(0, due - this.#clock.now().getTime());
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      void this.#runAndSchedule();
    }, delay);
  }

  async #runGuarded(requestedScope: CycleScope | undefined, everyPass: boolean): Promise<CycleOutcome> {
    const config = this.#options.state.config;
    const cycle = ++this.#cycle;
    const log = this.#options.log.with({ cycle });
    const startedAt = this.#clock.now();
    const withInventory = hasInventory(config.settings);
    const scope =
      requestedScope ??
      chooseCycleScope({
        withInventory,
        lastSweep: this.#options.state.snapshot?.sweep,
        previousAttempt: this.#options.state.health.scan.lastAttempt,
        now: startedAt,
        sweepIntervalMs: config.settings.scan.sweepIntervalMs,
      });
    this.#lastStart = startedAt;
    this.#recordScan(startCycle);
    log.info('scan cycle started', { scope, targets: config.plan.targets.count() });
    // Without an inventory every cycle is a sweep and keeps the bound it always had.
    const bound =
      scope === 'sweep' && withInventory
        ? { setting: 'scan.sweep_timeout', ms: config.settings.scan.sweepTimeoutMs }
        : { setting: 'scan.timeout', ms: config.settings.scan.timeoutMs };
    const deadline = this.#startDeadline(bound);
    let addressesScanned = 0;
    try {
      const snapshot = await this.#scanAndJoin(
        config,
        scope,
        { startedAt, signal: deadline.signal, everyPass },
        log,
        (count) => {
          addressesScanned = count;
        },
      );
      const attempt: CycleAttempt = {
        cycle,
        scope,
        addressesScanned,
        startedAt,
        finishedAt: this.#clock.now(),
        success: true,
        error: null,
      };
      this.#recordScan((scan) => completeCycle(scan, attempt, snapshot), snapshot);
      log.info('scan cycle finished', {
        scope,
        addresses_scanned: addressesScanned,
        duration_seconds: seconds(attempt),
        hosts_up: snapshot.scan.hostsUp,
        opened: snapshot.changes.opened.length,
        closed: snapshot.changes.closed.length,
      });
      await this.#persist(snapshot, log);
      return { ran: true, success: true };
    } catch (caught) {
      const err = renameTimeout(caught, bound.setting);
      // Any error, ours or a bug, fails this cycle only: the previous snapshot stays served.
      const error =
        err instanceof ExporterError
          ? { code: err.code, message: err.message }
          : { code: 'INTERNAL', message: describeError(err) };
      const attempt: CycleAttempt = {
        cycle,
        scope,
        addressesScanned,
        startedAt,
        finishedAt: this.#clock.now(),
        success: false,
        error,
      };
      this.#recordScan((scan) => failCycle(scan, attempt));
      log.error('scan cycle failed', { scope, duration_seconds: seconds(attempt), err });
      return { ran: true, success: false };
    } finally {
      deadline.clear();
    }
  }

  /**
   * The scan, joined with the inventory as it is when the scan ends: a read that finished meanwhile is used.
   * A known cycle's addresses are taken after the inventory is refreshed, so a VM created since the last
   * read is scanned in this cycle already.
   */
  async #scanAndJoin(
    config: ExporterConfig,
    scope: CycleScope,
    cycle: SchedulerCycle,
    log: Logger,
    onTargets: (count: number) => void,
  ): Promise<Snapshot> {
    const { signal } = cycle;
    await this.#options.inventory?.ensureFresh();
    const { state } = this.#options;
    const known = scope === 'known';
    const targets: ScanTargets = known
      ? buildKnownTargets(config.plan, listKnownAddresses(this.#joinedInventory(config), state.snapshot?.sweep))
      : config.plan.targets;
    onTargets(targets.count());
    const result = await this.#scanner.scan(buildScanJob(config, targets, scope), {
      signal,
      onProgress: (ratio) => this.#recordScan((scan) => reportProgress(scan, ratio)),
    });
    logIncompleteScan(result, log);
    const previous = state.snapshot;
    const udp = await this.#runUdpPass(config, this.#udpTargets(config, scope, targets, result), cycle, previous);
    const inventory = this.#joinedInventory(config);
    const snapshot = buildSnapshot({
      result: { ...result, hosts: mergeHosts(result.hosts, udp.hosts) },
      inventory,
      rules: config.rules,
      previous,
      cycle: {
        scope,
        targets: config.plan.targets.count(),
        // In a sweep with an inventory only the addresses it names are known to be in use; without one, every
        // address is counted, and in a known cycle every address scanned is known.
        addressesSilent: countSilent(
          result.silentHosts,
          udp.silentHosts,
          scope === 'sweep' && hasInventory(config.settings) ? inventory.owners : undefined,
        ),
      },
      scanned: (address) => config.plan.targets.contains(address),
      passes: udp.run && { udp: udp.run },
    });
    return config.settings.scan.verify.enabled ? this.#runVerifyPass(config, snapshot, previous, cycle) : snapshot;
  }

  /**
   * What the UDP pass scans: the cycle's addresses, except in a sweep with an inventory. There the inventory's
   * addresses and what the sweep's TCP scan found are scanned, not the whole targets: host discovery over a
   * sparse range is most of a sweep's time, and a second round of it would buy only the hosts no inventory
   * knows that have no TCP port open.
   */
  #udpTargets(config: ExporterConfig, scope: CycleScope, targets: ScanTargets, result: ScanResult): UdpTargets {
    if (scope !== 'sweep') return { targets, hostDiscovery: false };
    if (!hasInventory(config.settings)) return { targets, hostDiscovery: config.settings.scan.hostDiscovery };
    const found = { upAddresses: listFoundAddresses(result) };
    return {
      targets: buildKnownTargets(config.plan, listKnownAddresses(this.#joinedInventory(config), found)),
      hostDiscovery: false,
    };
  }

  /**
   * The UDP ports this cycle's snapshot holds: a new run's when one is due and succeeds (with the previous
   * ports of hosts it gave up on), else the previous snapshot's. None when the pass is off.
   */
  async #runUdpPass(
    config: ExporterConfig,
    udpTargets: UdpTargets,
    cycle: SchedulerCycle,
    previous: Snapshot | undefined,
  ): Promise<{ run: PassRuns['udp']; hosts: ObservedHost[]; silentHosts?: readonly string[] }> {
    const udp = config.settings.scan.udp;
    if (!udp) return { run: undefined, hosts: [] };
    const last = previous?.passes?.udp;
    if (!cycle.everyPass && !isUdpPassDue(last, cycle.startedAt, udp.intervalMs)) {
      return { run: last, hosts: previousUdpHosts(previous) };
    }
    const outcome = await this.#passes.runUdp(config, udpTargets, cycle, last);
    if (!outcome.result) return { run: outcome.run, hosts: previousUdpHosts(previous) };
    const kept = previousUdpHosts(previous, new Set(outcome.result.timedOutHosts));
    return { run: outcome.run, hosts: mergeHosts(outcome.result.hosts, kept), silentHosts: outcome.result.silentHosts };
  }

  /** Verification of the snapshot's open nonstandard ports; pairs a failed run did not reach keep what they had. */
  async #runVerifyPass(
    config: ExporterConfig,
    snapshot: Snapshot,
    previous: Snapshot | undefined,
    cycle: CycleContext,
  ): Promise<Snapshot> {
    const pairs = listVerifyPairs(snapshot);
    const outcome = await this.#passes.runVerify(config, pairs, cycle, previous?.passes?.verify);
    const detections = outcome.run.success
      ? outcome.detections
      : new Map([...previousDetections(previous, pairs), ...outcome.detections]);
    const verified = { ...snapshot, passes: { ...snapshot.passes, verify: outcome.run } };
    return applyDetections(verified, detections, config.rules, this.#clock.now());
  }

  /** The configured inventories as one; a source the config does not name is left out. */
  #joinedInventory(config: ExporterConfig): InventorySnapshot {
    const { health } = this.#options.state;
    return mergeInventories({
      openstack: config.settings.openstack ? health.inventory : undefined,
      file: config.settings.inventoryFile ? health.inventoryFile : undefined,
    });
  }

  /**
   * The cycle's signal: aborted at shutdown, or at scan.timeout with the TimeoutError that AbortSignal.timeout
   * would give (the scanner reports that reason as NMAP_TIMEOUT). Timed by the clock, so tests need not wait.
   */
  #startDeadline(bound: { setting: string; ms: number }): { signal: AbortSignal; clear: () => void } {
    const timeout = new AbortController();
    const timer = this.#clock.setTimeout(
      () => timeout.abort(new DOMException(`${bound.setting} has passed`, 'TimeoutError')),
      bound.ms,
    );
    return {
      signal: AbortSignal.any([this.#stopping.signal, timeout.signal]),
      clear: () => this.#clock.clearTimeout(timer),
    };
  }

  #recordScan(change: (scan: ScanHealth) => ScanHealth, snapshot?: Snapshot): void {
    const { state } = this.#options;
    state.recordScan(change(state.health.scan), snapshot);
  }

  async #persist(snapshot: Snapshot, log: Logger): Promise<void> {
    try {
      await this.#options.persist(snapshot);
      this.#options.state.recordStateWrite(true);
    } catch (err) {
      this.#options.state.recordStateWrite(false);
      log.error('cannot save state', { err });
    }
  }
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

/** The scanner names scan.timeout when its signal times out; a sweep's bound is another setting. */
function renameTimeout(err: unknown, setting: string): unknown {
  if (setting === 'scan.timeout' || !(err instanceof ExporterError) || err.code !== 'NMAP_TIMEOUT') return err;
  return new ExporterError('NMAP_TIMEOUT', `nmap did not finish within ${setting} and was stopped`, { cause: err });
}

function seconds(attempt: CycleAttempt): number {
  return (attempt.finishedAt.getTime() - attempt.startedAt.getTime()) / 1000;
}
