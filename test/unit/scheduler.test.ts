import assert from 'node:assert/strict';
import { setImmediate as settle } from 'node:timers/promises';
import { describe, it } from 'node:test';
import type { Clock, TimerHandle } from '../../src/core/clock.ts';
import { ExporterState } from '../../src/core/exporter-state.ts';
import { acceptReload } from '../../src/core/health.ts';
import { CycleScheduler } from '../../src/core/scheduler.ts';
import type { Snapshot } from '../../src/core/snapshot.ts';
import { ExporterError } from '../../src/errors.ts';
import { silentLogger } from '../../src/log.ts';
import { createMetricsEndpoint } from '../../src/metrics/collectors.ts';
import type { ScanJob, ScanOptions, ScanResult, Scanner } from '../../src/scan/types.ts';
import { FIRST_HOSTS, scanResult, testConfig } from '../support/snapshots.ts';

const T0 = new Date('2026-11-26T01:00:00.000Z');
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** scan.interval 1h and scan.timeout 50m, as the defaults. */
const CONFIG = testConfig('scan:\n  targets: ["203.0.113.0/28"]\n  interval: 1h\n  timeout: 50m\n');

/** Time that moves only when the test says, firing due timers in order and letting promises settle after each. */
class ManualClock implements Clock {
  #now = T0.getTime();
  readonly #timers = new Map<TimerHandle, { at: number; callback: () => void }>();

  now(): Date {
    return new Date(this.#now);
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const handle = {};
    this.#timers.set(handle, { at: this.#now + delayMs, callback });
    return handle;
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle) this.#timers.delete(handle);
  }

  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    await settle();
    for (let due = this.#nextDue(target); due; due = this.#nextDue(target)) {
      this.#timers.delete(due.handle);
      this.#now = due.at;
      due.callback();
      await settle();
    }
    this.#now = target;
    await settle();
  }

  #nextDue(until: number): { handle: TimerHandle; at: number; callback: () => void } | undefined {
    let next: { handle: TimerHandle; at: number; callback: () => void } | undefined;
    for (const [handle, timer] of this.#timers) {
      if (timer.at <= until && (!next || timer.at < next.at)) next = { handle, ...timer };
    }
    return next;
  }
}

interface ScanCall {
  readonly job: ScanJob;
  readonly signal: AbortSignal;
  readonly startedAt: Date;
  finish(result: ScanResult): void;
}

/** A scanner whose scans end when the test finishes them, or fail as the real one does when their signal aborts. */
class FakeScanner implements Scanner {
  readonly calls: ScanCall[] = [];
  readonly #clock: Clock;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  scan(job: ScanJob, options: ScanOptions): Promise<ScanResult> {
    return new Promise((resolve, reject) => {
      const { signal } = options;
      signal.addEventListener('abort', () => {
        const timedOut = (signal.reason as Error).name === 'TimeoutError';
        reject(timedOut ? new ExporterError('NMAP_TIMEOUT', 'nmap did not finish within scan.timeout and was stopped') : signal.reason);
      });
      this.calls.push({ job, signal, startedAt: this.#clock.now(), finish: resolve });
    });
  }

  /** Finishes the latest scan now with the usual hosts. */
  finishLatest(): void {
    const call = this.calls.at(-1);
    assert.ok(call, 'a scan is running');
    call.finish(scanResult(FIRST_HOSTS, this.#clock.now(), { startedAt: call.startedAt }));
  }
}

/** A persist that the test holds open, to make a cycle run long after its scan ended. */
class HeldPersist {
  readonly saved: Snapshot[] = [];
  #release: (() => void) | undefined;
  hold = false;

  readonly persist = (snapshot: Snapshot): Promise<void> => {
    this.saved.push(snapshot);
    if (!this.hold) return Promise.resolve();
    return new Promise((resolve) => {
      this.#release = resolve;
    });
  };

  release(): void {
    this.#release?.();
  }
}

function setup() {
  const clock = new ManualClock();
  const scanner = new FakeScanner(clock);
  const state = new ExporterState({ config: CONFIG, startedAt: T0 });
  const storage = new HeldPersist();
  const scheduler = new CycleScheduler({ scanner, state, log: silentLogger, persist: storage.persist, clock });
  return { clock, scanner, state, storage, scheduler };
}

/** Minutes since T0 at which each scan started. */
function scanStarts(scanner: FakeScanner): number[] {
  return scanner.calls.map((call) => (call.startedAt.getTime() - T0.getTime()) / MINUTE);
}

describe('CycleScheduler', () => {
  it('runs the first cycle at start, scanning the targets of the current config', async () => {
    const { clock, scanner, state, scheduler } = setup();
    scheduler.start();
    await clock.advance(0);
    assert.deepEqual(scanStarts(scanner), [0]);
    assert.equal(scanner.calls[0]?.job.targets, CONFIG.plan.targets);
    assert.equal(state.health.scan.inProgress, true);
    await scheduler.stop();
  });

  it('starts the next cycle one interval after the previous one started, not after it ended', async () => {
    const { clock, scanner, state, scheduler } = setup();
    scheduler.start();
    await clock.advance(10 * MINUTE);
    scanner.finishLatest();
    await clock.advance(0);
    assert.equal(state.health.scan.lastAttempt?.success, true);
    await clock.advance(50 * MINUTE - 1);
    assert.deepEqual(scanStarts(scanner), [0], 'nothing before 1h');
    await clock.advance(1);
    assert.deepEqual(scanStarts(scanner), [0, 60]);
    await scheduler.stop();
  });

  it('does not start a second cycle while one is still running when the next is due', async () => {
    const { clock, scanner, storage, scheduler } = setup();
    storage.hold = true;
    scheduler.start();
    await clock.advance(5 * MINUTE);
    scanner.finishLatest();
    await clock.advance(2 * HOUR);
    assert.deepEqual(scanStarts(scanner), [0], 'the cycle is still saving its state');
    assert.deepEqual(await scheduler.runCycle(), { ran: false });
    assert.equal(scanner.calls.length, 1);
    storage.release();
    await clock.advance(0);
    assert.equal(scanner.calls.length, 2, 'exactly one cycle follows');
    await scheduler.stop();
  });

  it('starts the next cycle at once when the previous one overran the interval', async () => {
    const { clock, scanner, storage, scheduler } = setup();
    storage.hold = true;
    scheduler.start();
    await clock.advance(5 * MINUTE);
    scanner.finishLatest();
    await clock.advance(65 * MINUTE);
    storage.hold = false;
    storage.release();
    await clock.advance(0);
    assert.deepEqual(scanStarts(scanner), [0, 70]);
    await scheduler.stop();
  });

  it('after a reload that shortens the interval, the next cycle is due the new interval after the last start', async () => {
    const { clock, scanner, state, scheduler } = setup();
    scheduler.start();
    await clock.advance(5 * MINUTE);
    scanner.finishLatest();
    await clock.advance(5 * MINUTE);
    const shorter = testConfig('scan:\n  targets: ["203.0.113.0/28"]\n  interval: 20m\n  timeout: 15m\n');
    state.recordReload(acceptReload(clock.now()), { config: shorter, snapshot: state.snapshot });
    scheduler.reschedule();
    await clock.advance(10 * MINUTE - 1);
    assert.deepEqual(scanStarts(scanner), [0]);
    await clock.advance(1);
    assert.deepEqual(scanStarts(scanner), [0, 20]);
    assert.equal(scanner.calls[1]?.job.targets, shorter.plan.targets);
    await scheduler.stop();
  });

  it('after a reload that lengthens the interval, the cycle due at the old interval waits for the new one', async () => {
    const { clock, scanner, state, scheduler } = setup();
    scheduler.start();
    await clock.advance(5 * MINUTE);
    scanner.finishLatest();
    await clock.advance(0);
    const longer = testConfig('scan:\n  targets: ["203.0.113.0/28"]\n  interval: 2h\n  timeout: 50m\n');
    state.recordReload(acceptReload(clock.now()), { config: longer, snapshot: state.snapshot });
    scheduler.reschedule();
    await clock.advance(HOUR + 50 * MINUTE);
    assert.deepEqual(scanStarts(scanner), [0]);
    await clock.advance(5 * MINUTE);
    assert.deepEqual(scanStarts(scanner), [0, 120]);
    await scheduler.stop();
  });

  it('a cycle that times out keeps the previous snapshot served and sets exposure_scan_success 0', async () => {
    const { clock, scanner, state, scheduler } = setup();
    const build = { version: '0.1.0', revision: 'abc123', nodejsVersion: 'v24.21.0', nmapVersion: '7.93' };
    const metrics = createMetricsEndpoint({ state, build, processMetrics: false });
    scheduler.start();
    await clock.advance(MINUTE);
    scanner.finishLatest();
    await clock.advance(59 * MINUTE);
    const first = state.snapshot;
    assert.ok(first, 'the first cycle completed');
    assert.match(await metrics.render(), /^exposure_scan_success 1$/m);
    await clock.advance(50 * MINUTE - 1);
    assert.equal(state.health.scan.inProgress, true, 'still within scan.timeout');
    await clock.advance(1);
    const timedOut = scanner.calls[1]!.signal;
    assert.equal(timedOut.aborted, true);
    assert.equal((timedOut.reason as Error).name, 'TimeoutError');
    assert.equal(state.snapshot, first);
    assert.equal(state.health.scan.inProgress, false);
    assert.deepEqual(state.health.scan.lastAttempt?.error, {
      code: 'NMAP_TIMEOUT',
      message: 'nmap did not finish within scan.timeout and was stopped',
    });
    assert.deepEqual(state.health.scan.results, { success: 1, failure: 1 });
    const text = await metrics.render();
    assert.match(text, /^exposure_scan_success 0$/m);
    assert.match(text, /^exposure_scan_duration_seconds 3000$/m);
    await scheduler.stop();
  });

  it('stop() during a cycle aborts the scan, resolves once the cycle ended, and starts no further cycle', async () => {
    const { clock, scanner, state, scheduler } = setup();
    scheduler.start();
    await clock.advance(MINUTE);
    await scheduler.stop();
    const { signal } = scanner.calls[0]!;
    assert.equal(signal.aborted, true);
    assert.equal((signal.reason as ExporterError).code, 'NMAP_ABORTED');
    assert.equal(state.health.scan.inProgress, false);
    assert.equal(state.health.scan.lastAttempt?.error?.code, 'NMAP_ABORTED');
    await clock.advance(24 * HOUR);
    assert.equal(scanner.calls.length, 1);
    assert.deepEqual(await scheduler.runCycle(), { ran: false });
  });

  it('serves a cycle whose state cannot be saved, and keeps scheduling', async () => {
    const clock = new ManualClock();
    const scanner = new FakeScanner(clock);
    const state = new ExporterState({ config: CONFIG, startedAt: T0 });
    const persist = () => Promise.reject(new ExporterError('STATE_WRITE_FAILED', 'cannot write the state file data/state.json: EROFS'));
    const scheduler = new CycleScheduler({ scanner, state, log: silentLogger, persist, clock });
    scheduler.start();
    await clock.advance(MINUTE);
    scanner.finishLatest();
    await clock.advance(0);
    assert.equal(state.health.scan.lastAttempt?.success, true);
    assert.equal(state.snapshot?.hosts.length, FIRST_HOSTS.length);
    await clock.advance(HOUR);
    assert.deepEqual(scanStarts(scanner), [0, 60]);
    await scheduler.stop();
  });
});
