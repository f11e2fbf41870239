/**
 * Keeps the inventory fresh: read at start, every openstack.refresh_interval, and at cycle start when stale.
 * A failed read keeps the last good inventory (exposure_openstack_up 0), and a cycle never waits on
 * OpenStack longer than openstack.request_timeout: a slow read goes on in the background and serves the
 * next cycle.
 */
import { ExporterError, describeError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { setContainsAddress } from '../scan/targets.ts';
import type { ExporterState } from './exporter-state.ts';
import type { Inventory } from './inventory.ts';

export interface InventoryRefresherOptions {
  readonly inventory: Inventory;
  readonly state: ExporterState;
  readonly log: Logger;
  readonly now?: () => Date;
}

export class InventoryRefresher {
  readonly #options: InventoryRefresherOptions;
  readonly #now: () => Date;
  readonly #stopping = new AbortController();
  readonly #warned = new Set<string>();
  #inFlight: Promise<void> | undefined;
  #lastAttempt: Date | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: InventoryRefresherOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => new Date());
  }

  /** Reads now, then every refresh interval until stop(). */
  start(): void {
    const tick = (): void => {
      void this.refresh().finally(() => {
        if (this.#stopping.signal.aborted) return;
        this.#timer = setTimeout(tick, this.#settings().refreshIntervalMs);
      });
    };
    tick();
  }

  /** Before a cycle: refresh when stale, waiting at most request_timeout for it. */
  async ensureFresh(): Promise<void> {
    const { refreshIntervalMs, requestTimeoutMs } = this.#settings();
    const stale = !this.#lastAttempt || this.#now().getTime() - this.#lastAttempt.getTime() >= refreshIntervalMs;
    if (!stale && !this.#inFlight) return;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, requestTimeoutMs);
    });
    await Promise.race([this.refresh(), deadline]);
    clearTimeout(timer);
  }

  /** One read; concurrent callers share it. Never throws: failures become health and a log line. */
  refresh(): Promise<void> {
    this.#inFlight ??= this.#read().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#stopping.abort(new ExporterError('OPENSTACK_ABORTED', 'the exporter is shutting down'));
  }

  async #read(): Promise<void> {
    const { state, log } = this.#options;
    this.#lastAttempt = this.#now();
    const startedAt = Date.now();
    try {
      const inventory = await this.#options.inventory.load({ signal: this.#stopping.signal });
      state.recordInventory(inventory);
      log.info('inventory read', {
        servers: inventory.servers,
        addresses: inventory.owners.size,
        duration_seconds: (Date.now() - startedAt) / 1000,
      });
      for (const warning of inventory.warnings) this.#warnOnce(warning);
      this.#reportOutsideTargets();
    } catch (err) {
      state.recordInventoryFailure();
      const code = err instanceof ExporterError ? err.code : 'INTERNAL';
      log.error('cannot read the inventory; keeping the last good one', { code, err: describeError(err) });
    }
  }

  /** Public addresses the config does not scan, logged once each: a range missing from scan.targets. */
  #reportOutsideTargets(): void {
    const { state } = this.#options;
    const outside = listAddressesOutsideTargets(state);
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

  #settings(): { refreshIntervalMs: number; requestTimeoutMs: number } {
    const openstack = this.#options.state.config.openstack;
    return { refreshIntervalMs: openstack?.refreshIntervalMs ?? 600_000, requestTimeoutMs: openstack?.requestTimeoutMs ?? 30_000 };
  }
}

/** The inventory's public addresses that scan.targets leaves out (never scanned, by design). */
export function listAddressesOutsideTargets(state: ExporterState): string[] {
  const targets = state.config.scan.targets;
  return state.inventory.publicAddresses.filter((ip) => !setContainsAddress(targets, ip));
}
