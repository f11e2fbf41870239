import assert from 'node:assert/strict';
import { setImmediate as settle } from 'node:timers/promises';
import { describe, it } from 'node:test';
import type { Clock, TimerHandle } from '../../src/clock.ts';
import { ExporterState } from '../../src/state/exporter-state.ts';
import { acceptReload, recordInventoryRead } from '../../src/state/health.ts';
import { NO_INVENTORY, UNKNOWN_OWNER } from '../../src/inventory/inventory.ts';
import { CycleScheduler } from '../../src/cycle/scheduler.ts';
import { countSilent } from '../../src/cycle/cycle.ts';
import { buildSnapshot } from '../../src/exposure/snapshot.ts';
import type { Snapshot } from '../../src/exposure/snapshot.ts';
import { ExporterError } from '../../src/errors.ts';
import { silentLogger } from '../../src/log.ts';
import { createMetricsEndpoint } from '../../src/metrics/collectors.ts';
import type { AddressListTargets } from '../../src/targets/address-list.ts';
import type { ScanJob, ScanOptions, ScanResult, Scanner } from '../../src/scan/types.ts';
import { FIRST_HOSTS, scanResult, testConfig } from '../support/snapshots.ts';

const T0 = new Date('2026-11-26T01:00:00.000Z');
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/**
 * scan.interval 1h and scan.timeout 50m, as the defaults. The UDP pass is off here, so each cycle is one scan;
 * the passes have their own tests (scan-passes.test.ts).
 */
const CONFIG = testConfig(
  'scan:\n  targets: ["203.0.113.0/28"]\n  interval: 1h\n  timeout: 50m\n  udp: {ports: none}\n',
);

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
        reject(
          timedOut
            ? new ExporterError('NMAP_TIMEOUT', 'nmap did not finish within scan.timeout and was stopped')
            : signal.reason,
        );
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
    const shorter = testConfig(
      'scan:\n  targets: ["203.0.113.0/28"]\n  interval: 20m\n  timeout: 15m\n  udp: {ports: none}\n',
    );
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
    const longer = testConfig(
      'scan:\n  targets: ["203.0.113.0/28"]\n  interval: 2h\n  timeout: 50m\n  udp: {ports: none}\n',
    );
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
    const persist = () =>
      Promise.reject(new ExporterError('STATE_WRITE_FAILED', 'cannot write the state file data/state.json: EROFS'));
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

/** The same targets with a file inventory: known cycles between sweeps every 6h, each sweep bounded by 3h. */
const INVENTORY_CONFIG = testConfig(
  'scan:\n  targets: ["203.0.113.0/28"]\n  interval: 1h\n  timeout: 50m\n  sweep_interval: 6h\n  sweep_timeout: 3h\n  udp: {ports: none}\n' +
    'inventory_file: {path: inventory.yml}\n',
);

const LISTED = { ...UNKNOWN_OWNER, vmName: 'web-3', ownerKind: 'file' };

/** A scheduler whose file inventory lists 203.0.113.3 and an address outside the targets. */
function setupWithInventory(options: { restore?: Snapshot } = {}) {
  const clock = new ManualClock();
  const scanner = new FakeScanner(clock);
  const state = new ExporterState({ config: INVENTORY_CONFIG, startedAt: T0 });
  if (options.restore) state.restore(options.restore);
  const owners = new Map([
    ['203.0.113.3', LISTED],
    ['198.51.100.1', LISTED],
  ]);
  state.recordInventoryFile(recordInventoryRead({ ...NO_INVENTORY, source: 'file', syncedAt: T0, owners }, T0));
  const storage = new HeldPersist();
  const inventory = { ensureFresh: () => Promise.resolve() };
  const scheduler = new CycleScheduler({
    scanner,
    state,
    log: silentLogger,
    persist: storage.persist,
    clock,
    inventory,
  });
  return { clock, scanner, state, scheduler };
}

/** Each scan's scope as the job shows it: the plan's sweep targets, or a list of known addresses. */
function scopes(scanner: FakeScanner): string[] {
  return scanner.calls.map((call) => (call.job.targets === INVENTORY_CONFIG.plan.targets ? 'sweep' : 'known'));
}

/** Lets the hours pass, finishing each scan a minute after it started. */
async function runHours(clock: ManualClock, scanner: FakeScanner, hours: number): Promise<void> {
  for (let hour = 0; hour < hours; hour += 1) {
    await clock.advance(MINUTE);
    scanner.finishLatest();
    await clock.advance(HOUR - MINUTE);
  }
}

describe('CycleScheduler with an inventory', () => {
  it('sweeps at start, scans the known addresses in the cycles between, and sweeps again every sweep_interval', async () => {
    const { clock, scanner, scheduler } = setupWithInventory();
    scheduler.start();
    await runHours(clock, scanner, 8);
    assert.deepEqual(scanStarts(scanner), [0, 60, 120, 180, 240, 300, 360, 420, 480]);
    assert.deepEqual(scopes(scanner), [
      'sweep',
      'known',
      'known',
      'known',
      'known',
      'known',
      'sweep',
      'known',
      'known',
    ]);
    await scheduler.stop();
  });

  it("a known cycle scans the inventory's addresses inside the targets and the addresses the last sweep found up", async () => {
    const { clock, scanner, state, scheduler } = setupWithInventory();
    scheduler.start();
    await runHours(clock, scanner, 1);
    const known = scanner.calls[1]!.job.targets as AddressListTargets;
    assert.deepEqual(known.addresses, ['203.0.113.3', '203.0.113.7', '203.0.113.9', '203.0.113.10']);
    await clock.advance(MINUTE);
    scanner.finishLatest();
    await clock.advance(0);
    assert.equal(state.snapshot?.scan.scope, 'known');
    assert.deepEqual(
      state.snapshot?.sweep?.upAddresses,
      ['203.0.113.7', '203.0.113.9', '203.0.113.10'],
      'the sweep is carried',
    );
    assert.equal(state.health.scan.lastAttempt?.addressesScanned, 4);
    await scheduler.stop();
  });

  it('never host-discovers known addresses, nor a sweep by default', async () => {
    const { clock, scanner, scheduler } = setupWithInventory();
    scheduler.start();
    await runHours(clock, scanner, 1);
    assert.deepEqual(
      scanner.calls.map((call) => call.job.hostDiscovery),
      [false, false],
    );
    await scheduler.stop();
  });

  it('counts the silent addresses the inventory names, in a sweep, and every silent address of a known cycle', async () => {
    const { clock, scanner, state, scheduler } = setupWithInventory();
    scheduler.start();
    await clock.advance(MINUTE);
    // 203.0.113.3 is the inventory's; .12 is an empty address of the sweep, which says nothing of use.
    scanner.calls[0]!.finish(scanResult(FIRST_HOSTS, clock.now(), { silentHosts: ['203.0.113.3', '203.0.113.12'] }));
    await clock.advance(0);
    assert.equal(state.snapshot?.scan.addressesSilent, 1);
    await clock.advance(HOUR - MINUTE);
    scanner.calls[1]!.finish(scanResult(FIRST_HOSTS, clock.now(), { silentHosts: ['203.0.113.3', '203.0.113.7'] }));
    await clock.advance(0);
    assert.equal(state.snapshot?.scan.scope, 'known');
    assert.equal(state.snapshot?.scan.addressesSilent, 2);
    await scheduler.stop();
  });

  it('marks what the sweep found on an address the inventory does not list with owner_kind unknown', async () => {
    const { clock, scanner, state, scheduler } = setupWithInventory();
    scheduler.start();
    await clock.advance(MINUTE);
    scanner.finishLatest();
    await clock.advance(0);
    assert.deepEqual(
      state.snapshot?.hosts.map((host) => [host.ip, host.owner.ownerKind]),
      [
        ['203.0.113.7', 'unknown'],
        ['203.0.113.9', 'unknown'],
        ['203.0.113.10', 'unknown'],
      ],
    );
    await scheduler.stop();
  });

  it('runCycle with the sweep scope (--once) sweeps even while known cycles are due', async () => {
    const { clock, scanner, scheduler } = setupWithInventory();
    scheduler.start();
    await runHours(clock, scanner, 1);
    await clock.advance(MINUTE);
    scanner.finishLatest();
    await clock.advance(0);
    const once = scheduler.runCycle({ scope: 'sweep' });
    await clock.advance(0);
    scanner.finishLatest();
    assert.deepEqual(await once, { ran: true, success: true });
    assert.deepEqual(scopes(scanner), ['sweep', 'known', 'sweep']);
    await scheduler.stop();
  });

  it('skips the start sweep when the state file holds one that started less than sweep_interval ago', async () => {
    const recent = sweptSnapshot(new Date(T0.getTime() - 5 * HOUR));
    const { clock, scanner, scheduler } = setupWithInventory({ restore: recent });
    scheduler.start();
    await runHours(clock, scanner, 2);
    assert.deepEqual(scopes(scanner), ['known', 'sweep', 'known'], 'the sweep is due an hour after start');
    const first = scanner.calls[0]!.job.targets as AddressListTargets;
    assert.deepEqual(first.addresses, ['203.0.113.3', '203.0.113.7', '203.0.113.9', '203.0.113.10']);
    await scheduler.stop();
  });

  it('sweeps at start when the sweep in the state file is older than sweep_interval', async () => {
    const { clock, scanner, scheduler } = setupWithInventory({
      restore: sweptSnapshot(new Date(T0.getTime() - 7 * HOUR)),
    });
    scheduler.start();
    await clock.advance(0);
    assert.deepEqual(scopes(scanner), ['sweep']);
    await scheduler.stop();
  });

  it('bounds a sweep by sweep_timeout, then runs a known cycle before trying the sweep again', async () => {
    const { clock, scanner, state, scheduler } = setupWithInventory();
    scheduler.start();
    await clock.advance(50 * MINUTE);
    assert.equal(scanner.calls[0]!.signal.aborted, false, 'scan.timeout does not bound a sweep');
    await clock.advance(130 * MINUTE);
    assert.equal(scanner.calls[0]!.signal.aborted, true);
    assert.deepEqual(state.health.scan.lastAttempt?.error, {
      code: 'NMAP_TIMEOUT',
      message: 'nmap did not finish within scan.sweep_timeout and was stopped',
    });
    assert.deepEqual(scanStarts(scanner), [0, 180], 'the overrun delays the next cycle, which starts at once');
    await clock.advance(50 * MINUTE);
    assert.equal(scanner.calls[1]!.signal.aborted, true, 'a known cycle keeps scan.timeout');
    await clock.advance(10 * MINUTE);
    assert.deepEqual(scopes(scanner), ['sweep', 'known', 'sweep']);
    await scheduler.stop();
  });

  it('delays the next known cycle while a sweep runs past scan.interval, never running two scans at once', async () => {
    const { clock, scanner, scheduler } = setupWithInventory();
    scheduler.start();
    await clock.advance(90 * MINUTE);
    assert.equal(scanner.calls.length, 1, 'no known cycle while the sweep runs');
    scanner.finishLatest();
    await clock.advance(0);
    assert.deepEqual(scanStarts(scanner), [0, 90]);
    assert.deepEqual(scopes(scanner), ['sweep', 'known']);
    await scheduler.stop();
  });
});

/** A snapshot restored from a state file whose sweep started at `startedAt` and found FIRST_HOSTS. */
function sweptSnapshot(startedAt: Date): Snapshot {
  const result = scanResult(FIRST_HOSTS, new Date(startedAt.getTime() + 10 * MINUTE), { startedAt });
  return buildSnapshot({
    result,
    inventory: { ...NO_INVENTORY, source: 'file' },
    rules: INVENTORY_CONFIG.rules,
    previous: undefined,
  });
}

describe('countSilent', () => {
  it('counts an address silent to TCP only while the UDP pass of the same cycle heard nothing from it either', () => {
    assert.equal(countSilent(['203.0.113.1', '203.0.113.2'], undefined), 2);
    assert.equal(countSilent(['203.0.113.1', '203.0.113.2'], ['203.0.113.2']), 1);
    assert.equal(countSilent(['203.0.113.1', '203.0.113.2'], [], new Map([['203.0.113.2', {}]])), 0);
    assert.equal(countSilent(['203.0.113.1', '203.0.113.2'], undefined, new Map([['203.0.113.2', {}]])), 1);
  });
});
