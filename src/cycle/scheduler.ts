// When scan cycles run: at start, then every scan.interval after the previous start, never two at once. The
// scheduler alone records scan health (node_exporter's collector/scheduler split).
import { hasInventory } from '../config/schema.ts';
import { ExporterError, describeError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { ScanJob, ScanOptions, ScanResult, Scanner } from '../scan/types.ts';
import { countRejections } from '../scan/output-checks.ts';
import { systemClock } from '../clock.ts';
import type { Clock, TimerHandle } from '../clock.ts';
import type { ExporterConfig } from '../state/exporter-config.ts';
import type { ExporterState } from '../state/exporter-state.ts';
import {
  completeCycle,
  failCycle,
  inventoryForJoin,
  recordRejectedOutput,
  reportProgress,
  startCycle,
} from '../state/health.ts';
import type { CycleAttempt, ScanHealth } from '../state/health.ts';
import type { InventoryRefresher } from './inventory-refresher.ts';
import { UNKNOWN_OWNER } from '../inventory/inventory.ts';
import type { InventorySnapshot } from '../inventory/inventory.ts';
import type { HistoryRecorder } from '../history/history-recorder.ts';
import { mergeInventories } from '../inventory/merge-inventories.ts';
import type { CycleScope, Snapshot } from '../exposure/snapshot.ts';
import { chooseCycleScope } from './sweep-schedule.ts';
import { PassRunner } from '../scan/scan-passes.ts';
import { runScanCycle } from './cycle.ts';

export interface SchedulerOptions {
  readonly scanner: Scanner;
  readonly state: ExporterState;
  readonly log: Logger;
  /** A failure is logged; the cycle's results are still served. */
  readonly persist: (snapshot: Snapshot) => Promise<void>;
  /** Absent without an inventory; with both sources, one that refreshes both. */
  readonly inventory?: Pick<InventoryRefresher, 'ensureFresh'>;
  readonly clock?: Clock;
  /** Writes each completed cycle's tickets, after the state file. */
  readonly history?: Pick<HistoryRecorder, 'record'> | undefined;
}

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

  /** Wraps every nmap run, the passes' too, so what was dropped from its output is counted and logged. */
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

  start(): void {
    void this.#runAndSchedule();
  }

  // ran: false when a cycle is already running. --once asks for a sweep with every pass (`everyPass`), whatever
  // the state file says ran when.
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
    const attemptOf = (error: CycleAttempt['error']): CycleAttempt => ({
      cycle,
      scope,
      addressesScanned,
      startedAt,
      finishedAt: this.#clock.now(),
      success: error === null,
      error,
    });
    try {
      const { snapshot, coverage, inventory } = await runScanCycle(
        { config, scope, context: { startedAt, signal: deadline.signal, everyPass }, log },
        {
          scanner: this.#scanner,
          passes: this.#passes,
          clock: this.#clock,
          inventory: this.#options.inventory,
          joinedInventory: (current) => this.#joinedInventory(current),
          previous: () => this.#options.state.snapshot,
          onTargets: (count) => {
            addressesScanned = count;
          },
          onProgress: (ratio) => this.#recordScan((scan) => reportProgress(scan, ratio)),
        },
      );
      const attempt = attemptOf(null);
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
      const { owners } = inventory;
      this.#options.history?.record({ snapshot, coverage, ownerOf: (ip) => owners.get(ip) ?? UNKNOWN_OWNER });
      return { ran: true, success: true };
    } catch (caught) {
      const err = renameTimeout(caught, bound.setting);
      // Any error, ours or a bug, fails this cycle only: the previous snapshot stays served.
      const error =
        err instanceof ExporterError
          ? { code: err.code, message: err.message }
          : { code: 'INTERNAL', message: describeError(err) };
      const attempt = attemptOf(error);
      this.#recordScan((scan) => failCycle(scan, attempt));
      log.error('scan cycle failed', { scope, duration_seconds: seconds(attempt), err });
      return { ran: true, success: false };
    } finally {
      deadline.clear();
    }
  }

  #joinedInventory(config: ExporterConfig): InventorySnapshot {
    const { health } = this.#options.state;
    return mergeInventories({
      openstack: config.settings.openstack ? inventoryForJoin(health.inventory) : undefined,
      file: config.settings.inventoryFile ? inventoryForJoin(health.inventoryFile) : undefined,
    });
  }

  // AbortSignal.timeout's TimeoutError (the scanner reports it as NMAP_TIMEOUT), but timed by the clock for tests.
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

/** The scanner names scan.timeout when its signal times out; a sweep's bound is another setting. */
function renameTimeout(err: unknown, setting: string): unknown {
  if (setting === 'scan.timeout' || !(err instanceof ExporterError) || err.code !== 'NMAP_TIMEOUT') return err;
  return new ExporterError('NMAP_TIMEOUT', `nmap did not finish within ${setting} and was stopped`, { cause: err });
}

function seconds(attempt: CycleAttempt): number {
  return (attempt.finishedAt.getTime() - attempt.startedAt.getTime()) / 1000;
}
