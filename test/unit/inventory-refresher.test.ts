import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { systemClock } from '../../src/clock.ts';
import { ExporterState } from '../../src/state/exporter-state.ts';
import { NO_INVENTORY } from '../../src/inventory/inventory.ts';
import type { Inventory, InventorySnapshot } from '../../src/inventory/inventory.ts';
import { InventoryRefresher } from '../../src/cycle/inventory-refresher.ts';
import { listAddressesOutsideTargets } from '../../src/state/exporter-state.ts';
import { ExporterError, InventoryFileError } from '../../src/errors.ts';
import { createLogger } from '../../src/log.ts';
import { SHOP_DB } from '../support/owners.ts';
import { testConfig } from '../support/snapshots.ts';

const CONFIG = testConfig(
  'scan:\n  targets: ["203.0.113.0/28"]\nopenstack:\n  cloud: lab\n  request_timeout: 50ms\n  refresh_interval: 10m\n',
);

function inventoryOf(publicAddresses: string[], warnings: string[] = []): InventorySnapshot {
  return {
    ...NO_INVENTORY,
    source: 'openstack',
    syncedAt: new Date('2026-11-26T01:00:00Z'),
    servers: 1,
    owners: new Map([['203.0.113.7', SHOP_DB]]),
    publicAddresses,
    warnings,
  };
}

/** An inventory that answers from a script of outcomes, one per read. */
class ScriptedInventory implements Inventory {
  reads = 0;
  readonly #outcomes: (InventorySnapshot | Error | 'never')[];
  constructor(outcomes: (InventorySnapshot | Error | 'never')[]) {
    this.#outcomes = outcomes;
  }
  load(): Promise<InventorySnapshot> {
    const outcome = this.#outcomes[this.reads++] ?? this.#outcomes.at(-1)!;
    if (outcome === 'never') return new Promise(() => {});
    return outcome instanceof Error ? Promise.reject(outcome) : Promise.resolve(outcome);
  }
}

function setup(outcomes: (InventorySnapshot | Error | 'never')[], now = () => new Date('2026-11-26T01:00:00Z')) {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({
    level: 'debug',
    format: 'json',
    write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>),
  });
  const state = new ExporterState({ config: CONFIG, startedAt: now() });
  const inventory = new ScriptedInventory(outcomes);
  const settings = CONFIG.settings.openstack!;
  const refresher = new InventoryRefresher({ inventory, state, log, settings, clock: { ...systemClock, now } });
  return { state, inventory, refresher, lines };
}

describe('InventoryRefresher', () => {
  it('keeps the last good inventory when a later read fails, and marks it down', async () => {
    const good = inventoryOf([]);
    const { state, refresher, lines } = setup([
      good,
      new ExporterError('OPENSTACK_TIMEOUT', 'GET compute servers/detail timed out'),
    ]);
    await refresher.refresh();
    assert.equal(state.health.inventory.lastGood, good);
    assert.equal(state.health.inventory.up, true);
    await refresher.refresh();
    assert.equal(state.health.inventory.lastGood, good);
    assert.equal(state.health.inventory.up, false);
    const failure = lines.find((line) => line['msg'] === 'cannot read the inventory; keeping the last good one');
    assert.deepEqual(failure?.['err'], {
      message: 'GET compute servers/detail timed out',
      code: 'OPENSTACK_TIMEOUT',
      name: 'ExporterError',
    });
  });

  it('lets a cycle wait at most request_timeout for a slow read', async () => {
    const { state, refresher } = setup(['never']);
    await refresher.ensureFresh();
    // Returned although the read never ends: the cycle goes on without an inventory.
    assert.equal(state.health.inventory.lastGood, NO_INVENTORY);
    assert.equal(state.health.inventory.up, undefined);
  });

  it('reads again at cycle start only when the last read is older than refresh_interval', async () => {
    let now = new Date('2026-11-26T01:00:00Z');
    const { inventory, refresher } = setup([inventoryOf([])], () => now);
    await refresher.ensureFresh();
    await refresher.ensureFresh();
    assert.equal(inventory.reads, 1);
    now = new Date('2026-11-26T01:10:00Z');
    await refresher.ensureFresh();
    assert.equal(inventory.reads, 2);
  });

  it('shares one read between concurrent callers', async () => {
    const { inventory, refresher } = setup([inventoryOf([])]);
    await Promise.all([refresher.refresh(), refresher.refresh(), refresher.ensureFresh()]);
    assert.equal(inventory.reads, 1);
  });

  it('logs each inventory warning and each address outside the targets once', async () => {
    const snapshot = inventoryOf(
      ['203.0.113.7', '198.51.100.4'],
      ['Keystone refused to list users (403); user labels show ids instead of names'],
    );
    const { state, refresher, lines } = setup([snapshot]);
    await refresher.refresh();
    await refresher.refresh();
    assert.deepEqual(listAddressesOutsideTargets(state), ['198.51.100.4']);
    const warnings = lines
      .filter((line) => line['level'] === 'warn')
      .map((line) => [line['msg'], line['detail'] ?? line['addresses']]);
    assert.deepEqual(warnings, [
      ['inventory incomplete', 'Keystone refused to list users (403); user labels show ids instead of names'],
      ['inventory addresses outside scan.targets are not scanned', '198.51.100.4'],
    ]);
  });
});

describe('InventoryRefresher for the inventory_file', () => {
  it('keeps its own health slot: an invalid file keeps the last good owners and leaves the OpenStack inventory alone', async () => {
    const lines: Record<string, unknown>[] = [];
    const log = createLogger({
      level: 'debug',
      format: 'json',
      write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>),
    });
    const state = new ExporterState({ config: CONFIG, startedAt: new Date('2026-11-26T01:00:00Z') });
    const good = { ...inventoryOf([]), source: 'file' as const };
    const invalid = new InventoryFileError('inventory.yml', ['[3].ip: "10.0.0.300" is not a valid IP address']);
    const refresher = new InventoryRefresher({
      inventory: new ScriptedInventory([good, invalid]),
      state,
      log,
      settings: { refreshIntervalMs: 60_000, requestTimeoutMs: 5000 },
      kind: 'file',
      clock: { ...systemClock, now: () => new Date('2026-11-26T01:00:00Z') },
    });
    await refresher.refresh();
    await refresher.refresh();
    assert.deepEqual(state.health.inventoryFile, {
      lastGood: good,
      up: false,
      attemptedAt: new Date('2026-11-26T01:00:00Z'),
    });
    assert.equal(state.health.inventory.up, undefined, 'the OpenStack slot is untouched');
    const failure = lines.find((line) => line['msg'] === 'cannot read the inventory; keeping the last good one');
    assert.equal(failure?.['inventory'], 'file');
    assert.deepEqual(failure?.['err'], {
      message: 'inventory.yml: [3].ip: "10.0.0.300" is not a valid IP address',
      code: 'INVENTORY_FILE_INVALID',
      name: 'InventoryFileError',
    });
  });
});
