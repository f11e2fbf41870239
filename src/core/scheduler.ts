/**
 * Runs scan cycles: the first at start, then one every scan.interval after the previous one started, never two
 * at once. Each cycle gets an AbortSignal that fires at scan.timeout or at shutdown. The scheduler alone
 * records scan health; the scanner and the inventory only return results or throw (node_exporter's
 * collector/scheduler split).
 */
import { ExporterError, describeError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { ScanJob, ScanResult, Scanner } from '../scan/types.ts';
import { systemClock } from './clock.ts';
import type { Clock, TimerHandle } from './clock.ts';
import type { ExporterConfig } from './exporter-config.ts';
import type { ExporterState } from './exporter-state.ts';
import { completeCycle, failCycle, inventoryForJoin, reportProgress, startCycle } from './health.ts';
import type { CycleAttempt, ScanHealth } from './health.ts';
import type { InventoryRefresher } from './inventory-refresher.ts';
import { buildSnapshot } from './snapshot.ts';
import type { Snapshot } from './snapshot.ts';

export interface SchedulerOptions {
  readonly scanner: Scanner;
  readonly state: ExporterState;
  readonly log: Logger;
  /** Persists each new snapshot; a failure is logged, the cycle's results are still served. */
  readonly persist: (snapshot: Snapshot) => Promise<void>;
  /** Absent without an openstack block: exposures then carry empty owner labels. */
  readonly inventory?: Pick<InventoryRefresher, 'ensureFresh'>;
  readonly clock?: Clock;
}

export type CycleOutcome = { ran: false } | { ran: true; success: boolean };

export class CycleScheduler {
  readonly #options: SchedulerOptions;
  readonly #clock: Clock;
  readonly #stopping = new AbortController();
  #cycle = 0;
  #running: Promise<CycleOutcome> | undefined;
  #timer: TimerHandle | undefined;
  #lastStart: Date | undefined;

  constructor(options: SchedulerOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
  }

  /** Starts the first cycle now and keeps scheduling until stop(). */
  start(): void {
    void this.#runAndSchedule();
  }

  /** Runs one cycle unless one is already running (then it reports ran: false and starts nothing). */
  runCycle(): Promise<CycleOutcome> {
    if (this.#running) return Promise.resolve({ ran: false });
    if (this.#stopping.signal.aborted) return Promise.resolve({ ran: false });
    this.#running = this.#runGuarded().finally(() => {
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

  async #runGuarded(): Promise<CycleOutcome> {
    const config = this.#options.state.config;
    const cycle = ++this.#cycle;
    const log = this.#options.log.with({ cycle });
    const startedAt = this.#clock.now();
    this.#lastStart = startedAt;
    this.#recordScan(startCycle);
    log.info('scan cycle started', { targets: config.plan.targets.count() });
    const deadline = this.#startDeadline(config.settings.scan.timeoutMs);
    try {
      const snapshot = await this.#scanAndJoin(config, deadline.signal, log);
      const attempt: CycleAttempt = { cycle, startedAt, finishedAt: this.#clock.now(), success: true, error: null };
      this.#recordScan((scan) => completeCycle(scan, attempt, snapshot), snapshot);
      log.info('scan cycle finished', {
        duration_seconds: seconds(attempt),
        hosts_up: snapshot.scan.hostsUp,
        opened: snapshot.changes.opened.length,
        closed: snapshot.changes.closed.length,
      });
      await this.#persist(snapshot, log);
      return { ran: true, success: true };
    } catch (err) {
      // Any error, ours or a bug, fails this cycle only: the previous snapshot stays served.
      const error = err instanceof ExporterError ? { code: err.code, message: err.message } : { code: 'INTERNAL', message: describeError(err) };
      const attempt: CycleAttempt = { cycle, startedAt, finishedAt: this.#clock.now(), success: false, error };
      this.#recordScan((scan) => failCycle(scan, attempt));
      log.error('scan cycle failed', { duration_seconds: seconds(attempt), err });
      return { ran: true, success: false };
    } finally {
      deadline.clear();
    }
  }

  /** The scan, joined with the inventory as it is when the scan ends: a read that finished meanwhile is used. */
  async #scanAndJoin(config: ExporterConfig, signal: AbortSignal, log: Logger): Promise<Snapshot> {
    await this.#options.inventory?.ensureFresh();
    const result = await this.#options.scanner.scan(buildScanJob(config), {
      signal,
      onProgress: (ratio) => this.#recordScan((scan) => reportProgress(scan, ratio)),
    });
    logIncompleteScan(result, log);
    const { state } = this.#options;
    return buildSnapshot({
      result,
      inventory: inventoryForJoin(state.health.inventory),
      rules: config.rules,
      previous: state.snapshot,
      scanned: (address) => config.plan.targets.contains(address),
    });
  }

  /**
   * The cycle's signal: aborted at shutdown, or at scan.timeout with the TimeoutError that AbortSignal.timeout
   * would give (the scanner reports that reason as NMAP_TIMEOUT). Timed by the clock, so tests need not wait.
   */
  #startDeadline(timeoutMs: number): { signal: AbortSignal; clear: () => void } {
    const timeout = new AbortController();
    const timer = this.#clock.setTimeout(
      () => timeout.abort(new DOMException('scan.timeout has passed', 'TimeoutError')),
      timeoutMs,
    );
    return { signal: AbortSignal.any([this.#stopping.signal, timeout.signal]), clear: () => this.#clock.clearTimeout(timer) };
  }

  #recordScan(change: (scan: ScanHealth) => ScanHealth, snapshot?: Snapshot): void {
    const { state } = this.#options;
    state.recordScan(change(state.health.scan), snapshot);
  }

  async #persist(snapshot: Snapshot, log: Logger): Promise<void> {
    try {
      await this.#options.persist(snapshot);
    } catch (err) {
      log.error('cannot save state', { err });
    }
  }
}

/** What one cycle asks the scanner for: built in this one place from the config current at cycle start. */
export function buildScanJob(config: ExporterConfig): ScanJob {
  const { scan } = config.settings;
  return {
    nmapPath: scan.nmapPath,
    targets: config.plan.targets,
    ports: config.plan.ports,
    scanType: scan.scanType,
    hostDiscovery: scan.hostDiscovery,
    tuning: scan.tuning,
  };
}

function logIncompleteScan(result: ScanResult, log: Logger): void {
  if (result.timedOutHosts.length > 0) {
    log.warn('nmap gave up on hosts; keeping their previous ports', { hosts: result.timedOutHosts.length, first: result.timedOutHosts[0] });
  }
  if (result.skippedTargets > 0) log.warn('nmap could not route to some targets', { targets: result.skippedTargets });
}

function seconds(attempt: CycleAttempt): number {
  return (attempt.finishedAt.getTime() - attempt.startedAt.getTime()) / 1000;
}
