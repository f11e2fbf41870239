/**
 * The exporter's health (scan cycles, inventory reads, reloads) as immutable values, each replaced whole by its one
 * writer through the pure transitions below.
 */
import { NO_INVENTORY } from './inventory.ts';
import type { InventorySnapshot } from './inventory.ts';
import type { CycleScope, Snapshot } from './snapshot.ts';
import type { RejectedOutput } from '../scan/types.ts';

export interface CycleAttempt {
  readonly cycle: number;
  readonly scope: CycleScope;
  /** The addresses the cycle handed nmap. */
  readonly addressesScanned: number;
  readonly startedAt: Date;
  readonly finishedAt: Date;
  readonly success: boolean;
  /** The error's code and message when the cycle failed. */
  readonly error: { readonly code: string; readonly message: string } | null;
}

export interface ScanHealth {
  readonly lastAttempt: CycleAttempt | undefined;
  readonly inProgress: boolean;
  /** The running cycle's progress from 0 to 1; 1 once a cycle completed, kept as it was by a failed one. */
  readonly progress: number;
  readonly results: { readonly success: number; readonly failure: number };
  /** Ports opened and closed, summed over the completed cycles since the exporter started. */
  readonly changes: { readonly opened: number; readonly closed: number };
  /** What nmap's output had that was dropped, summed over every run since the exporter started. */
  readonly outputRejected: Omit<RejectedOutput, 'examples'>;
}

export interface InventoryHealth {
  /** The last read that succeeded (kept when a later read fails), or NO_INVENTORY before the first. */
  readonly lastGood: InventorySnapshot;
  /** Whether the latest read succeeded; undefined until a read has finished. */
  readonly up: boolean | undefined;
  /** When the latest finished read started: the inventory is stale one refresh interval after it. */
  readonly attemptedAt: Date | undefined;
}

export interface ReloadHealth {
  readonly successful: boolean;
  /** The last successful load, as Prometheus reports it: a rejected reload keeps the time. */
  readonly at: Date;
}

/** The last write of the state file: whether it succeeded; undefined before the first. */
export interface StateWriteHealth {
  readonly successful: boolean | undefined;
}

export interface Health {
  readonly scan: ScanHealth;
  readonly stateWrite: StateWriteHealth;
  /** The OpenStack inventory. */
  readonly inventory: InventoryHealth;
  /** The inventory_file's, read the same way by a refresher of its own. */
  readonly inventoryFile: InventoryHealth;
  readonly reload: ReloadHealth;
}

export const NO_CYCLE_YET: ScanHealth = {
  lastAttempt: undefined,
  inProgress: false,
  progress: 0,
  results: { success: 0, failure: 0 },
  changes: { opened: 0, closed: 0 },
  outputRejected: { notAnAddress: 0, outsideTargets: 0, invalidText: 0 },
};

export const INVENTORY_NOT_READ: InventoryHealth = { lastGood: NO_INVENTORY, up: undefined, attemptedAt: undefined };

/** The health of a process that loaded its config at `startedAt` and has done nothing else yet. */
export function initialHealth(startedAt: Date): Health {
  return {
    scan: NO_CYCLE_YET,
    stateWrite: { successful: undefined },
    inventory: INVENTORY_NOT_READ,
    inventoryFile: INVENTORY_NOT_READ,
    reload: { successful: true, at: startedAt },
  };
}

export function startCycle(scan: ScanHealth): ScanHealth {
  return { ...scan, inProgress: true, progress: 0 };
}

export function reportProgress(scan: ScanHealth, ratio: number): ScanHealth {
  return { ...scan, progress: ratio };
}

export function recordRejectedOutput(scan: ScanHealth, rejected: RejectedOutput): ScanHealth {
  const sum = scan.outputRejected;
  return {
    ...scan,
    outputRejected: {
      notAnAddress: sum.notAnAddress + rejected.notAnAddress,
      outsideTargets: sum.outsideTargets + rejected.outsideTargets,
      invalidText: sum.invalidText + rejected.invalidText,
    },
  };
}

export function completeCycle(scan: ScanHealth, attempt: CycleAttempt, snapshot: Snapshot): ScanHealth {
  return {
    ...scan,
    lastAttempt: attempt,
    inProgress: false,
    progress: 1,
    results: { ...scan.results, success: scan.results.success + 1 },
    changes: {
      opened: scan.changes.opened + snapshot.changes.opened.length,
      closed: scan.changes.closed + snapshot.changes.closed.length,
    },
  };
}

export function failCycle(scan: ScanHealth, attempt: CycleAttempt): ScanHealth {
  return {
    ...scan,
    lastAttempt: attempt,
    inProgress: false,
    results: { ...scan.results, failure: scan.results.failure + 1 },
  };
}

export function recordInventoryRead(inventory: InventorySnapshot, attemptedAt: Date): InventoryHealth {
  return { lastGood: inventory, up: true, attemptedAt };
}

/** The last good inventory stays in use; only its health changes. */
export function recordInventoryFailure(health: InventoryHealth, attemptedAt: Date): InventoryHealth {
  return { ...health, up: false, attemptedAt };
}

/**
 * The inventory a cycle joins its scan with: the last good read, marked down while the latest read fails, so
 * the snapshot (and the report) say the names may be out of date.
 */
export function inventoryForJoin(health: InventoryHealth): InventorySnapshot {
  return { ...health.lastGood, up: health.up ?? health.lastGood.up };
}

/**
 * The configured inventories as one: OpenStack's owners over the file's where both name an address (the
 * cloud is the authority on its own addresses; the file is for the ones outside it). Down when either source
 * is down. The source says what is configured even before a first read, so that an address no source knows
 * is marked unknown from the first cycle on.
 */
export function mergeInventories(sources: {
  readonly openstack?: InventoryHealth | undefined;
  readonly file?: InventoryHealth | undefined;
}): InventorySnapshot {
  const openstack = sources.openstack && inventoryForJoin(sources.openstack);
  const file = sources.file && inventoryForJoin(sources.file);
  if (!openstack && !file) return NO_INVENTORY;
  if (!file) return { ...openstack!, source: 'openstack' };
  if (!openstack) return { ...file, source: 'file' };
  const syncedAt = [openstack.syncedAt, file.syncedAt]
    .filter((at) => at !== undefined)
    .sort((a, b) => a.getTime() - b.getTime())[0];
  return {
    source: 'openstack+file',
    up: openstack.up && file.up,
    syncedAt,
    servers: openstack.servers + file.servers,
    owners: new Map([...file.owners, ...openstack.owners]),
    publicAddresses: openstack.publicAddresses,
    // Only Neutron knows security groups; a file inventory has none.
    security: openstack.security,
    warnings: [...openstack.warnings, ...file.warnings],
  };
}

export function acceptReload(at: Date): ReloadHealth {
  return { successful: true, at };
}

export function rejectReload(reload: ReloadHealth): ReloadHealth {
  return { successful: false, at: reload.at };
}
