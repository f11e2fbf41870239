import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  INVENTORY_NOT_READ,
  NO_CYCLE_YET,
  acceptReload,
  completeCycle,
  failCycle,
  initialHealth,
  inventoryForJoin,
  recordInventoryFailure,
  recordInventoryRead,
  rejectReload,
  reportProgress,
  recordRejectedOutput,
  startCycle,
} from '../../src/state/health.ts';
import type { CycleAttempt } from '../../src/state/health.ts';
import { NO_INVENTORY, UNKNOWN_OWNER } from '../../src/inventory/inventory.ts';
import { mergeInventories } from '../../src/inventory/merge-inventories.ts';
import type { InventorySnapshot } from '../../src/inventory/inventory.ts';
import { twoCycleState } from '../support/snapshots.ts';

const T1 = new Date('2026-11-26T01:00:00.000Z');
const T2 = new Date('2026-11-26T02:00:00.000Z');

function attempt(cycle: number, error: CycleAttempt['error'] = null): CycleAttempt {
  return {
    cycle,
    scope: 'sweep',
    addressesScanned: 16,
    startedAt: T1,
    finishedAt: new Date(T1.getTime() + 41_200),
    success: error === null,
    error,
  };
}

const READ: InventorySnapshot = { ...NO_INVENTORY, source: 'openstack', syncedAt: T1, servers: 3 };

describe('scan health', () => {
  it('a completed cycle counts a success, adds its changes and reports progress 1', () => {
    const { second } = twoCycleState();
    const running = reportProgress(startCycle(NO_CYCLE_YET), 0.4);
    const done = completeCycle(completeCycle(running, attempt(1), second), attempt(2), second);
    assert.deepEqual(done, {
      lastAttempt: attempt(2),
      inProgress: false,
      progress: 1,
      results: { success: 2, failure: 0 },
      changes: { opened: 2, closed: 2 },
      outputRejected: { notAnAddress: 0, outsideTargets: 0, invalidText: 0 },
    });
  });

  it('sums what runs dropped of their nmap output, across cycles', () => {
    const rejected = { notAnAddress: 1, outsideTargets: 2, invalidText: 3, examples: ['"not-an-ip"'] };
    const twice = recordRejectedOutput(recordRejectedOutput(NO_CYCLE_YET, rejected), {
      ...rejected,
      outsideTargets: 0,
    });
    assert.deepEqual(twice.outputRejected, { notAnAddress: 2, outsideTargets: 2, invalidText: 6 });
  });

  it('a failed cycle counts a failure and keeps the progress and the changes it had', () => {
    const { second } = twoCycleState();
    const before = reportProgress(startCycle(completeCycle(NO_CYCLE_YET, attempt(1), second)), 0.3);
    const error = { code: 'NMAP_FAILED', message: 'nmap exited with code 1' };
    assert.deepEqual(failCycle(before, attempt(2, error)), {
      lastAttempt: attempt(2, error),
      inProgress: false,
      progress: 0.3,
      results: { success: 1, failure: 1 },
      changes: { opened: 1, closed: 1 },
      outputRejected: { notAnAddress: 0, outsideTargets: 0, invalidText: 0 },
    });
  });

  it('a new cycle resets the progress without touching the previous value', () => {
    const { second } = twoCycleState();
    const done = completeCycle(NO_CYCLE_YET, attempt(1), second);
    const next = startCycle(done);
    assert.deepEqual([next.inProgress, next.progress], [true, 0]);
    assert.deepEqual([done.inProgress, done.progress], [false, 1]);
  });
});

describe('inventory health', () => {
  it('is not read, and joins as up, before the first read', () => {
    const { inventory } = initialHealth(T1);
    assert.equal(inventory.up, undefined);
    assert.equal(inventoryForJoin(inventory).up, true);
  });

  it('a failed read keeps the last good inventory, marks it down and joins it as down', () => {
    const good = recordInventoryRead(READ, T1);
    const failed = recordInventoryFailure(good, T2);
    assert.deepEqual(failed, { lastGood: READ, up: false, attemptedAt: T2 });
    assert.deepEqual(inventoryForJoin(failed), { ...READ, up: false });
    assert.equal(good.up, true, 'the earlier value is unchanged');
  });
});

describe('mergeInventories', () => {
  const owner = (vmName: string, ownerKind: string) => ({ ...UNKNOWN_OWNER, vmName, ownerKind });
  // mergeInventories joins what each source's health offers for a join.
  const cloud = inventoryForJoin(
    recordInventoryRead(
      {
        ...READ,
        owners: new Map([
          ['203.0.113.7', owner('db-1', 'compute')],
          ['203.0.113.8', owner('web-1', 'compute')],
        ]),
      },
      T1,
    ),
  );
  const fileRead = recordInventoryRead(
    {
      ...NO_INVENTORY,
      source: 'file',
      syncedAt: T2,
      servers: 1,
      owners: new Map([
        ['203.0.113.7', owner('old-db', 'baremetal')],
        ['192.0.2.10', owner('backup-1', 'baremetal')],
      ]),
    },
    T2,
  );
  const file = inventoryForJoin(fileRead);

  it('lets OpenStack win where both name an address, and keeps what only the file names', () => {
    const merged = mergeInventories({ openstack: cloud, file });
    assert.equal(merged.source, 'openstack+file');
    assert.deepEqual([...merged.owners].map(([ip, o]) => [ip, o.vmName]).sort(), [
      ['192.0.2.10', 'backup-1'],
      ['203.0.113.7', 'db-1'],
      ['203.0.113.8', 'web-1'],
    ]);
    assert.equal(merged.servers, 4);
    assert.deepEqual(merged.syncedAt, T1, 'the older of the two reads');
  });

  it('is down when either source is down', () => {
    assert.equal(
      mergeInventories({ openstack: cloud, file: inventoryForJoin(recordInventoryFailure(fileRead, T2)) }).up,
      false,
    );
    assert.equal(mergeInventories({ openstack: cloud, file }).up, true);
  });

  it('names the configured source even before its first read, and none without any', () => {
    assert.equal(mergeInventories({ file: inventoryForJoin(INVENTORY_NOT_READ) }).source, 'file');
    assert.equal(mergeInventories({ openstack: inventoryForJoin(INVENTORY_NOT_READ) }).source, 'openstack');
    assert.equal(mergeInventories({}), NO_INVENTORY);
  });
});

describe('reload health', () => {
  it('a rejected reload keeps the time of the last successful load', () => {
    assert.deepEqual(rejectReload(acceptReload(T1)), { successful: false, at: T1 });
    assert.deepEqual(acceptReload(T2), { successful: true, at: T2 });
  });
});
