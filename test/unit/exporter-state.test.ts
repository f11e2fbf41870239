import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ExporterState } from '../../src/state/exporter-state.ts';
import { inventoryForJoin, recordInventoryFailure, recordInventoryRead } from '../../src/state/health.ts';
import { NO_INVENTORY } from '../../src/inventory/inventory.ts';
import type { InventorySnapshot } from '../../src/inventory/inventory.ts';
import { buildSnapshot } from '../../src/exposure/snapshot.ts';
import { BLOG_WEB, SHOP_DB } from '../support/owners.ts';
import { FIRST_HOSTS, scanResult, testConfig } from '../support/snapshots.ts';

const CONFIG = testConfig();
const SYNCED_AT = new Date('2026-11-26T00:55:00.000Z');

/** The cloud as it was read before the restart: .7 and .9 have owners, .10 is not in the inventory. */
const INVENTORY: InventorySnapshot = {
  source: 'openstack',
  up: true,
  syncedAt: SYNCED_AT,
  servers: 240,
  owners: new Map([
    ['203.0.113.7', SHOP_DB],
    ['203.0.113.9', BLOG_WEB],
  ]),
  publicAddresses: ['203.0.113.7', '203.0.113.9', '203.0.113.200'],
  warnings: [],
  security: new Map(),
};

function savedSnapshot(inventory: InventorySnapshot) {
  return buildSnapshot({
    result: scanResult(FIRST_HOSTS, '2026-11-26T01:00:41.200Z'),
    inventory,
    rules: CONFIG.rules,
    previous: undefined,
  });
}

describe('ExporterState.restore', () => {
  it('takes the owners a snapshot saved as the inventory until the cloud is read, so a cycle with OpenStack down keeps them', () => {
    const state = new ExporterState({ config: CONFIG, startedAt: new Date('2026-11-26T02:00:00Z') });
    state.restore(savedSnapshot(INVENTORY));
    assert.equal(state.health.inventory.up, undefined, 'no read has happened yet');
    assert.equal(state.health.inventory.lastGood.source, 'openstack');
    assert.equal(state.health.inventory.lastGood.syncedAt, SYNCED_AT);
    assert.equal(state.health.inventory.lastGood.servers, 240);
    assert.deepEqual(
      [...state.health.inventory.lastGood.owners],
      [
        ['203.0.113.7', SHOP_DB],
        ['203.0.113.9', BLOG_WEB],
      ],
    );

    state.recordInventory(recordInventoryFailure(state.health.inventory, new Date('2026-11-26T02:00:01Z')));
    const next = buildSnapshot({
      result: scanResult(FIRST_HOSTS, '2026-11-26T02:00:41.200Z'),
      inventory: inventoryForJoin(state.health.inventory),
      rules: CONFIG.rules,
      previous: state.snapshot,
    });
    assert.deepEqual(
      next.hosts.map((host) => [host.ip, host.owner.vmName]),
      [
        ['203.0.113.7', 'db-1'],
        ['203.0.113.9', 'web-1'],
        ['203.0.113.10', ''],
      ],
    );
  });

  it('leaves the inventory empty for a snapshot saved without OpenStack', () => {
    const state = new ExporterState({ config: CONFIG, startedAt: new Date('2026-11-26T02:00:00Z') });
    state.restore(savedSnapshot(NO_INVENTORY));
    assert.equal(state.health.inventory.lastGood, NO_INVENTORY);
  });

  it('gives way to the first inventory read that succeeds', () => {
    const state = new ExporterState({ config: CONFIG, startedAt: new Date('2026-11-26T02:00:00Z') });
    state.restore(savedSnapshot(INVENTORY));
    const fresh: InventorySnapshot = {
      ...INVENTORY,
      owners: new Map([['203.0.113.10', SHOP_DB]]),
      syncedAt: new Date('2026-11-26T02:00:05Z'),
    };
    state.recordInventory(recordInventoryRead(fresh, new Date('2026-11-26T02:00:00Z')));
    assert.equal(state.health.inventory.lastGood, fresh);
    assert.equal(state.health.inventory.up, true);
  });
});
