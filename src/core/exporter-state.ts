/**
 * Everything the outputs read: the current config, the last completed snapshot and the health of the
 * cycles. Only the scheduler and the reload path write it; /metrics, /report and the landing page read it
 * synchronously, so what they show is always one consistent cycle.
 */
import type { Config } from '../config/schema.ts';
import { NO_INVENTORY } from './inventory.ts';
import type { InventorySnapshot } from './inventory.ts';
import type { Snapshot } from './snapshot.ts';

export interface CycleAttempt {
  readonly cycle: number;
  readonly startedAt: Date;
  readonly finishedAt: Date;
  readonly success: boolean;
  /** The error's code and message when the cycle failed. */
  readonly error: { readonly code: string; readonly message: string } | null;
}

export interface ReloadStatus {
  readonly successful: boolean;
  readonly at: Date;
}

export class ExporterState {
  #config: Config;
  #snapshot: Snapshot | undefined;
  #restored = false;
  #lastAttempt: CycleAttempt | undefined;
  #inProgress = false;
  #progress = 0;
  #results = { success: 0, failure: 0 };
  #changes = { opened: 0, closed: 0 };
  #reload: ReloadStatus;
  #inventory: InventorySnapshot = NO_INVENTORY;
  /** undefined until the first read of a configured inventory. */
  #inventoryUp: boolean | undefined;

  constructor(options: { config: Config; startedAt: Date }) {
    this.#config = options.config;
    this.#reload = { successful: true, at: options.startedAt };
  }

  get config(): Config {
    return this.#config;
  }

  get snapshot(): Snapshot | undefined {
    return this.#snapshot;
  }

  /** Ready once a cycle completed or a saved state was restored. */
  get ready(): boolean {
    return this.#snapshot !== undefined;
  }

  get restored(): boolean {
    return this.#restored;
  }

  get lastAttempt(): CycleAttempt | undefined {
    return this.#lastAttempt;
  }

  get inProgress(): boolean {
    return this.#inProgress;
  }

  get progress(): number {
    return this.#progress;
  }

  get results(): Readonly<{ success: number; failure: number }> {
    return this.#results;
  }

  get changes(): Readonly<{ opened: number; closed: number }> {
    return this.#changes;
  }

  get reload(): ReloadStatus {
    return this.#reload;
  }

  /** The last inventory read that succeeded (kept when a later read fails), or NO_INVENTORY. */
  get inventory(): InventorySnapshot {
    return this.#inventory;
  }

  /** Whether the last inventory read succeeded; undefined before the first one or without an inventory. */
  get inventoryUp(): boolean | undefined {
    return this.#inventoryUp;
  }

  recordInventory(inventory: InventorySnapshot): void {
    this.#inventory = inventory;
    this.#inventoryUp = true;
  }

  /** The last good inventory stays in use; only its health changes. */
  recordInventoryFailure(): void {
    this.#inventoryUp = false;
  }

  /**
   * The saved snapshot also stands in for the inventory until the first read after a restart succeeds: with
   * the cloud down at start, cycles keep naming the owners saved before the restart instead of dropping them.
   */
  restore(snapshot: Snapshot): void {
    this.#snapshot = snapshot;
    this.#restored = true;
    if (snapshot.inventory.source === 'openstack') this.#inventory = readSavedInventory(snapshot);
  }

  beginCycle(): void {
    this.#inProgress = true;
    this.#progress = 0;
  }

  reportProgress(ratio: number): void {
    this.#progress = ratio;
  }

  /** Swaps the whole snapshot in at once and counts its changes. */
  completeCycle(attempt: CycleAttempt, snapshot: Snapshot): void {
    this.#snapshot = snapshot;
    this.#changes = {
      opened: this.#changes.opened + snapshot.changes.opened.length,
      closed: this.#changes.closed + snapshot.changes.closed.length,
    };
    this.#finish(attempt);
  }

  /** A failed cycle leaves the previous snapshot served. */
  failCycle(attempt: CycleAttempt): void {
    this.#finish(attempt);
  }

  applyConfig(config: Config, snapshot: Snapshot | undefined, at: Date): void {
    this.#config = config;
    this.#snapshot = snapshot;
    this.#reload = { successful: true, at };
  }

  /** The old config stays; `at` keeps the time of the last successful load, as Prometheus reports it. */
  rejectConfig(): void {
    this.#reload = { successful: false, at: this.#reload.at };
  }

  #finish(attempt: CycleAttempt): void {
    this.#lastAttempt = attempt;
    this.#inProgress = false;
    if (attempt.success) {
      this.#progress = 1;
      this.#results.success += 1;
    } else {
      this.#results.failure += 1;
    }
  }
}

/** The owners a snapshot saved, as an inventory: only the hosts it had, which are the ones cycles need. */
function readSavedInventory(snapshot: Snapshot): InventorySnapshot {
  const known = snapshot.hosts.filter((host) => Object.values(host.owner).some((field) => field !== ''));
  return {
    source: 'openstack',
    up: snapshot.inventory.up,
    syncedAt: snapshot.inventory.syncedAt,
    servers: snapshot.inventory.servers,
    owners: new Map(known.map((host) => [host.ip, host.owner])),
    publicAddresses: [],
    warnings: [],
  };
}
