// Keeps an inventory fresh: read at start, every refresh interval and at a cycle's start when stale; a failed read
// keeps the last good one, and a cycle never waits longer than the request timeout.
import type { OpenStackConfig } from '../config/schema.ts';
import { ExporterError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { systemClock } from '../clock.ts';
import type { Clock, TimerHandle } from '../clock.ts';
import { listAddressesOutsideTargets } from '../state/exporter-state.ts';
import type { ExporterState } from '../state/exporter-state.ts';
import { recordInventoryFailure, recordInventoryRead } from '../state/health.ts';
import type { InventoryHealth } from '../state/health.ts';
import type { Inventory } from '../inventory/inventory.ts';

export interface InventoryRefresherOptions {
  readonly inventory: Inventory;
  readonly state: ExporterState;
  readonly log: Logger;
  /** Like the session built from it, changes only at a restart. */
  readonly settings: Pick<OpenStackConfig, 'refreshIntervalMs' | 'requestTimeoutMs'>;
  readonly kind?: 'openstack' | 'file';
  readonly clock?: Clock;
}

export class InventoryRefresher {
  readonly #options: InventoryRefresherOptions;
  readonly #clock: Clock;
  readonly #stopping = new AbortController();
  readonly #warned = new Set<string>();
  #inFlight: Promise<void> | undefined;
  #timer: TimerHandle | undefined;

  constructor(options: InventoryRefresherOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
  }

  start(): void {
    const tick = (): void => {
      void this.refresh().finally(() => {
        if (this.#stopping.signal.aborted) return;
        this.#timer = this.#clock.setTimeout(tick, this.#options.settings.refreshIntervalMs);
      });
    };
    tick();
  }

  async ensureFresh(): Promise<void> {
    const { refreshIntervalMs, requestTimeoutMs } = this.#options.settings;
    const { attemptedAt } = this.#health();
    const stale = !attemptedAt || this.#clock.now().getTime() - attemptedAt.getTime() >= refreshIntervalMs;
    if (!stale && !this.#inFlight) return;
    let timer: TimerHandle | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = this.#clock.setTimeout(resolve, requestTimeoutMs);
    });
    await Promise.race([this.refresh(), deadline]);
    this.#clock.clearTimeout(timer);
  }

  /** Concurrent callers share one read. Never throws: failures become health and a log line. */
  refresh(): Promise<void> {
    this.#inFlight ??= this.#read().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  stop(): void {
    this.#clock.clearTimeout(this.#timer);
    this.#stopping.abort(new ExporterError('OPENSTACK_ABORTED', 'the exporter is shutting down'));
  }

  async #read(): Promise<void> {
    const { log } = this.#options;
    const attemptedAt = this.#clock.now();
    try {
      const inventory = await this.#options.inventory.load({ signal: this.#stopping.signal });
      this.#record(recordInventoryRead(inventory, attemptedAt));
      log.info('inventory read', {
        inventory: this.#kind,
        servers: inventory.servers,
        addresses: inventory.owners.size,
        duration_seconds: (this.#clock.now().getTime() - attemptedAt.getTime()) / 1000,
      });
      for (const warning of inventory.warnings) this.#warnOnce(warning);
      if (this.#kind === 'openstack') this.#reportOutsideTargets();
    } catch (err) {
      this.#record(recordInventoryFailure(this.#health(), attemptedAt));
      log.error('cannot read the inventory; keeping the last good one', { err, inventory: this.#kind });
    }
  }

  get #kind(): 'openstack' | 'file' {
    return this.#options.kind ?? 'openstack';
  }

  #health(): InventoryHealth {
    const { health } = this.#options.state;
    return this.#kind === 'openstack' ? health.inventory : health.inventoryFile;
  }

  #record(health: InventoryHealth): void {
    if (this.#kind === 'openstack') this.#options.state.recordInventory(health);
    else this.#options.state.recordInventoryFile(health);
  }

  #reportOutsideTargets(): void {
    const outside = listAddressesOutsideTargets(this.#options.state);
    const fresh = outside.filter((ip) => !this.#warned.has(`outside ${ip}`));
    if (fresh.length === 0) return;
    for (const ip of fresh) this.#warned.add(`outside ${ip}`);
    this.#options.log.warn('inventory addresses outside scan.targets are not scanned', {
      count: fresh.length,
      addresses: fresh.slice(0, 10).join(','),
    });
  }

  #warnOnce(message: string): void {
    if (this.#warned.has(message)) return;
    this.#warned.add(message);
    this.#options.log.warn('inventory incomplete', { detail: message });
  }
}
