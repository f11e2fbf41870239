// What the outputs read: the config, the snapshot and the health, each an immutable value swapped whole by its
// one writer, so /metrics, /report and the page always show one consistent cycle.
import { setContainsAddress } from '../net/addresses.ts';
import type { ExporterConfig } from './exporter-config.ts';
import { initialHealth } from './health.ts';
import type { Health, InventoryHealth, ReloadHealth, ScanHealth } from './health.ts';
import type { InventorySnapshot } from '../inventory/inventory.ts';
import type { Snapshot } from '../exposure/snapshot.ts';

export class ExporterState {
  #config: ExporterConfig;
  #snapshot: Snapshot | undefined;
  #restored = false;
  #health: Health;

  constructor(options: { config: ExporterConfig; startedAt: Date }) {
    this.#config = options.config;
    this.#health = initialHealth(options.startedAt);
  }

  get config(): ExporterConfig {
    return this.#config;
  }

  get snapshot(): Snapshot | undefined {
    return this.#snapshot;
  }

  get ready(): boolean {
    return this.#snapshot !== undefined;
  }

  get restored(): boolean {
    return this.#restored;
  }

  get health(): Health {
    return this.#health;
  }

  /** The scheduler's: a completed cycle's snapshot and its health are swapped in together. */
  recordScan(scan: ScanHealth, snapshot?: Snapshot): void {
    if (snapshot) this.#snapshot = snapshot;
    this.#health = { ...this.#health, scan };
  }

  /** The scheduler's too. */
  recordStateWrite(successful: boolean): void {
    this.#health = { ...this.#health, stateWrite: { successful } };
  }

  /** The inventory refresher's. */
  recordInventory(inventory: InventoryHealth): void {
    this.#health = { ...this.#health, inventory };
  }

  /** The inventory_file refresher's. */
  recordInventoryFile(inventoryFile: InventoryHealth): void {
    this.#health = { ...this.#health, inventoryFile };
  }

  /** The composition root's, at start; the saved owners stand in until the first inventory read succeeds. */
  restore(snapshot: Snapshot): void {
    this.#snapshot = snapshot;
    this.#restored = true;
    if (snapshot.inventory.source === 'openstack' || snapshot.inventory.source === 'openstack+file') {
      this.#health = {
        ...this.#health,
        inventory: { ...this.#health.inventory, lastGood: buildSavedInventory(snapshot) },
      };
    }
  }

  /** The composition root's; a rejected reload keeps the old config and snapshot. */
  recordReload(reload: ReloadHealth, accepted?: { config: ExporterConfig; snapshot: Snapshot | undefined }): void {
    if (accepted) {
      this.#config = accepted.config;
      this.#snapshot = accepted.snapshot;
    }
    this.#health = { ...this.#health, reload };
  }
}

function buildSavedInventory(snapshot: Snapshot): InventorySnapshot {
  // An owner marked unknown is the absence of one: restoring it would make the address look known.
  const known = snapshot.hosts.filter(
    (host) => host.owner.ownerKind !== 'unknown' && Object.values(host.owner).some((field) => field !== ''),
  );
  return {
    source: 'openstack',
    up: snapshot.inventory.up,
    syncedAt: snapshot.inventory.syncedAt,
    servers: snapshot.inventory.servers,
    owners: new Map(known.map((host) => [host.ip, host.owner])),
    publicAddresses: [],
    warnings: [],
    // Not saved: until the first read after a restart, exposures show no admitting rules and none is latent.
    security: new Map(),
  };
}

/** Measured against all replicas' targets: an address another shard scans is covered, not missing. */
export function listAddressesOutsideTargets(state: ExporterState): string[] {
  const targets = state.config.settings.scan.targets;
  return state.health.inventory.lastGood.publicAddresses.filter((ip) => !setContainsAddress(targets, ip));
}
