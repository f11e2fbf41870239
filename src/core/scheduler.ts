/**
 * Runs scan cycles: the first at start, then one every scan.interval, never two at once. Each cycle gets an
 * AbortSignal that fires at scan.timeout or at shutdown. The scheduler alone records health; the scanner
 * and the inventory only return results or throw (node_exporter's collector/scheduler split).
 */
import { ExporterError, describeError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { ScanJob, Scanner } from '../scan/types.ts';
import type { ExporterConfig } from './exporter-config.ts';
import type { ExporterState } from './exporter-state.ts';
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
  readonly inventory?: InventoryRefresher;
  readonly now?: () => Date;
}

export type CycleOutcome = { ran: false } | { ran: true; success: boolean };

export class CycleScheduler {
  readonly #options: SchedulerOptions;
  readonly #now: () => Date;
  readonly #stopping = new AbortController();
  #cycle = 0;
  #running: Promise<CycleOutcome> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #lastStart: Date | undefined;

  constructor(options: SchedulerOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => new Date());
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
    clearTimeout(this.#timer);
    this.#scheduleNext();
  }

  /** Cancels the running cycle (nmap is killed) and waits for it to end. */
  async stop(): Promise<void> {
    clearTimeout(this.#timer);
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
    const delay = Math.max(0, due - this.#now().getTime());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#runAndSchedule();
    }, delay);
  }

  async #runGuarded(): Promise<CycleOutcome> {
    const { state } = this.#options;
    const config = state.config;
    const cycle = ++this.#cycle;
    const log = this.#options.log.with({ cycle });
    const startedAt = this.#now();
    this.#lastStart = startedAt;
    state.beginCycle();
    log.info('scan cycle started', { targets: config.plan.targets.count() });
    const signal = AbortSignal.any([this.#stopping.signal, AbortSignal.timeout(config.settings.scan.timeoutMs)]);
    try {
      await this.#options.inventory?.ensureFresh();
      const result = await this.#options.scanner.scan(buildScanJob(config), {
        signal,
        onProgress: (ratio) => state.reportProgress(ratio),
      });
      // Joined with the inventory as it is when the scan ends: a read that finished meanwhile is used.
      const inventory = { ...state.inventory, up: state.inventoryUp ?? state.inventory.up };
      const snapshot = buildSnapshot({ result, inventory, rules: config.rules, previous: state.snapshot });
      const finishedAt = this.#now();
      state.completeCycle({ cycle, startedAt, finishedAt, success: true, error: null }, snapshot);
      log.info('scan cycle finished', {
        duration_seconds: seconds(startedAt, finishedAt),
        hosts_up: snapshot.scan.hostsUp,
        opened: snapshot.changes.opened.length,
        closed: snapshot.changes.closed.length,
      });
      if (result.timedOutHosts.length > 0) {
        log.warn('nmap gave up on hosts; keeping their previous ports', {
          hosts: result.timedOutHosts.length,
          first: result.timedOutHosts[0],
        });
      }
      if (result.skippedTargets > 0) log.warn('nmap could not route to some targets', { targets: result.skippedTargets });
      await this.#persist(snapshot, log);
      return { ran: true, success: true };
    } catch (err) {
      // Any error, ours or a bug, fails this cycle only: the previous snapshot stays served.
      const error = err instanceof ExporterError ? { code: err.code, message: err.message } : { code: 'INTERNAL', message: describeError(err) };
      const finishedAt = this.#now();
      state.failCycle({ cycle, startedAt, finishedAt, success: false, error });
      log.error('scan cycle failed', { duration_seconds: seconds(startedAt, finishedAt), code: error.code, err: error.message });
      return { ran: true, success: false };
    }
  }

  async #persist(snapshot: Snapshot, log: Logger): Promise<void> {
    try {
      await this.#options.persist(snapshot);
    } catch (err) {
      log.error('cannot save state', { err });
    }
  }
}

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

function seconds(from: Date, to: Date): number {
  return (to.getTime() - from.getTime()) / 1000;
}
