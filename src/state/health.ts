// The exporter's health as immutable values, each replaced whole by its one writer through pure transitions.
import { NO_INVENTORY } from '../inventory/inventory.ts';
import type { InventorySnapshot } from '../inventory/inventory.ts';
import type { CycleScope, Snapshot } from '../exposure/snapshot.ts';
import type { RejectedOutput } from '../scan/types.ts';

export interface CycleAttempt {
  readonly cycle: number;
  readonly scope: CycleScope;
  readonly addressesScanned: number;
  readonly startedAt: Date;
  readonly finishedAt: Date;
  readonly success: boolean;
  readonly error: { readonly code: string; readonly message: string } | null;
}

export interface ScanHealth {
  readonly lastAttempt: CycleAttempt | undefined;
  readonly inProgress: boolean;
  /** From 0 to 1; 1 once a cycle completed, kept as it was by a failed one. */
  readonly progress: number;
  readonly results: { readonly success: number; readonly failure: number };
  /** Summed over the completed cycles since the exporter started. */
  readonly changes: { readonly opened: number; readonly closed: number };
  /** Summed over every nmap run since the exporter started. */
  readonly outputRejected: Omit<RejectedOutput, 'examples'>;
}

export interface InventoryHealth {
  /** Kept when a later read fails; NO_INVENTORY before the first. */
  readonly lastGood: InventorySnapshot;
  /** undefined until a read has finished. */
  readonly up: boolean | undefined;
  /** When the latest finished read started: the inventory is stale one refresh interval after it. */
  readonly attemptedAt: Date | undefined;
}

export interface ReloadHealth {
  readonly successful: boolean;
  /** The last successful load, as Prometheus reports it: a rejected reload keeps the time. */
  readonly at: Date;
}

/** undefined before the first write. */
export interface StateWriteHealth {
  readonly successful: boolean | undefined;
}

export interface Health {
  readonly scan: ScanHealth;
  readonly stateWrite: StateWriteHealth;
  /** The OpenStack inventory. */
  readonly inventory: InventoryHealth;
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

export function recordInventoryFailure(health: InventoryHealth, attemptedAt: Date): InventoryHealth {
  return { ...health, up: false, attemptedAt };
}

/** Marked down while the latest read fails, so the snapshot and the report say the names may be out of date. */
export function inventoryForJoin(health: InventoryHealth): InventorySnapshot {
  return { ...health.lastGood, up: health.up ?? health.lastGood.up };
}

export function acceptReload(at: Date): ReloadHealth {
  return { successful: true, at };
}

export function rejectReload(reload: ReloadHealth): ReloadHealth {
  return { successful: false, at: reload.at };
}
