import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CycleAttempt } from '../../src/state/health.ts';
import { NO_INVENTORY, UNKNOWN_OWNER } from '../../src/inventory/inventory.ts';
import type { SweepInfo } from '../../src/exposure/snapshot.ts';
import { chooseCycleScope, listKnownAddresses } from '../../src/cycle/sweep-schedule.ts';

const HOUR = 3_600_000;
const NOW = new Date('2026-11-26T12:00:00.000Z');

function sweepStartedHoursAgo(hours: number): SweepInfo {
  const startedAt = new Date(NOW.getTime() - hours * HOUR);
  return {
    startedAt,
    finishedAt: new Date(startedAt.getTime() + 600_000),
    addressesScanned: 256,
    hostsUp: 3,
    upAddresses: ['203.0.113.7'],
  };
}

function attempt(scope: CycleAttempt['scope'], success: boolean): CycleAttempt {
  return { cycle: 4, scope, addressesScanned: 256, startedAt: NOW, finishedAt: NOW, success, error: null };
}

const BASE = { withInventory: true, previousAttempt: undefined, now: NOW, sweepIntervalMs: 24 * HOUR };

describe('chooseCycleScope', () => {
  it('sweeps every cycle without an inventory, whatever the last sweep', () => {
    assert.equal(chooseCycleScope({ ...BASE, withInventory: false, lastSweep: sweepStartedHoursAgo(1) }), 'sweep');
  });

  it('sweeps when no sweep has completed yet', () => {
    assert.equal(chooseCycleScope({ ...BASE, lastSweep: undefined }), 'sweep');
  });

  it('scans the known addresses while the last sweep started less than sweep_interval ago', () => {
    assert.equal(chooseCycleScope({ ...BASE, lastSweep: sweepStartedHoursAgo(23.99) }), 'known');
  });

  it('sweeps once sweep_interval has passed since the last sweep started', () => {
    assert.equal(chooseCycleScope({ ...BASE, lastSweep: sweepStartedHoursAgo(24) }), 'sweep');
  });

  it('runs one known cycle after a failed sweep before sweeping again', () => {
    const input = { ...BASE, lastSweep: sweepStartedHoursAgo(30) };
    assert.equal(chooseCycleScope({ ...input, previousAttempt: attempt('sweep', false) }), 'known');
    assert.equal(chooseCycleScope({ ...input, previousAttempt: attempt('known', true) }), 'sweep');
    assert.equal(chooseCycleScope({ ...input, previousAttempt: attempt('known', false) }), 'sweep');
  });
});

describe('listKnownAddresses', () => {
  it("lists the inventory's addresses and the last sweep's up addresses", () => {
    const inventory = { ...NO_INVENTORY, source: 'file' as const, owners: new Map([['203.0.113.3', UNKNOWN_OWNER]]) };
    assert.deepEqual(listKnownAddresses(inventory, sweepStartedHoursAgo(1)), ['203.0.113.3', '203.0.113.7']);
  });

  it('lists only the inventory before any sweep', () => {
    const inventory = { ...NO_INVENTORY, source: 'file' as const, owners: new Map([['203.0.113.3', UNKNOWN_OWNER]]) };
    assert.deepEqual(listKnownAddresses(inventory, undefined), ['203.0.113.3']);
  });
});
