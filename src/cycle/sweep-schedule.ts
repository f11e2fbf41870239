// Which addresses a cycle scans (pure): with an inventory the known ones, and the whole targets every sweep_interval.
import type { CycleAttempt } from '../state/health.ts';
import type { InventorySnapshot } from '../inventory/inventory.ts';
import type { CycleScope, SweepInfo } from '../exposure/snapshot.ts';

export interface ScopeInput {
  readonly withInventory: boolean;
  readonly lastSweep: SweepInfo | undefined;
  readonly previousAttempt: CycleAttempt | undefined;
  readonly now: Date;
  readonly sweepIntervalMs: number;
}

// Paced from sweep starts, like the cycles, so sweeps do not drift by their own duration. A failed sweep is followed
// by one known cycle: a sweep too slow for scan.sweep_timeout must not stop the known addresses being scanned.
export function chooseCycleScope(input: ScopeInput): CycleScope {
  if (!input.withInventory) return 'sweep';
  const previous = input.previousAttempt;
  if (previous?.scope === 'sweep' && !previous.success) return 'known';
  if (!input.lastSweep) return 'sweep';
  return input.now.getTime() - input.lastSweep.startedAt.getTime() >= input.sweepIntervalMs ? 'sweep' : 'known';
}

/** Before the plan filters them to its targets and shard (buildKnownTargets). */
export function listKnownAddresses(
  inventory: InventorySnapshot,
  lastSweep: Pick<SweepInfo, 'upAddresses'> | undefined,
): string[] {
  return [...inventory.owners.keys(), ...(lastSweep?.upAddresses ?? [])];
}
