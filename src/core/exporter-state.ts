/**
 * What the outputs read: the config, the snapshot and the health, each an immutable value swapped whole by its
 * one writer, so /metrics, /report and the page always show one consistent cycle.
 */
import type { ExporterConfig } from './exporter-config.ts';
import { initialHealth } from './health.ts';
import type { Health, InventoryHealth, ReloadHealth, ScanHealth } from './health.ts';
import type { InventorySnapshot } from './inventory.ts';
import type { Snapshot } from './snapshot.ts';

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

  /** Ready once a cycle completed or a saved state was restored. */
  get ready(): boolean {
    return this.#snapshot !== undefined;
  }

  /** Whether the snapshot came from the state file at start. */
  get restored(): boolean {
    return this.#restored;
  }

  get health(): Health {
    return this.#health;
  }

  /** The scheduler's: a cycle's health, and for a completed cycle its snapshot, swapped in together. */
  recordScan(scan: ScanHealth, snapshot?: Snapshot): void {
    if (snapshot) this.#snapshot = snapshot;
    this.#health = { ...this.#health, scan };
  }

  /** The inventory refresher's. */
  /** The scheduler's too: whether the state file of the last cycle was written. */
  recordStateWrite(successful: boolean): void {
    this.#health = { ...this.#health, stateWrite: { successful } };
  }

  recordInventory(inventory: InventoryHealth): void {
    this.#health = { ...this.#health, inventory };
  }

  /** The inventory_file refresher's. */
  recordInventoryFile(inventoryFile: InventoryHealth): void {
    this.#health = { ...this.#health, inventoryFile };
  }

  /**
   * The composition root's, once at start: the snapshot saved by the previous run. Its owners also stand in
   * for the inventory until the first read after the restart succeeds: with the cloud down at start, cycles
   * keep naming the owners saved before the restart instead of dropping them.
   */
  restore(snapshot: Snapshot): void {
    this.#snapshot = snapshot;
    this.#restored = true;
    if (snapshot.inventory.source === 'openstack' || snapshot.inventory.source === 'openstack+file') {
      this.#health = {
        ...this.#health,
        inventory: { ...this.#health.inventory, lastGood: readSavedInventory(snapshot) },
      };
    }
  }

  /**
   * The composition root's: a reload's outcome, with the new config and the snapshot reclassified under it
   * when the reload was accepted. A rejected reload keeps the old config and snapshot.
   */
  recordReload(reload: ReloadHealth, accepted?: { config: ExporterConfig; snapshot: Snapshot | undefined }): void {
    if (accepted) {
      this.#config = accepted.config;
      this.#snapshot = accepted.snapshot;
    }
    this.#health = { ...this.#health, reload };
  }
}

/** The owners a snapshot saved, as an inventory: only the hosts it had, which are the ones cycles need. */
function readSavedInventory(snapshot: Snapshot): InventorySnapshot {
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
