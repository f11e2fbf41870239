/**
 * Which addresses a cycle scans (pure): with an inventory the known ones, and the whole targets every
 * sweep_interval; without one every cycle is a sweep.
 */
import type { CycleAttempt } from './health.ts';
import type { InventorySnapshot } from './inventory.ts';
import type { CycleScope, SweepInfo } from './snapshot.ts';

export interface ScopeInput {
  readonly withInventory: boolean;
  /** The last completed sweep, from the current snapshot (restored from the state file at start). */
  readonly lastSweep: SweepInfo | undefined;
  /** The attempt before this cycle, successful or not. */
  readonly previousAttempt: CycleAttempt | undefined;
  readonly now: Date;
  readonly sweepIntervalMs: number;
}

/**
 * A sweep is due once sweep_interval has passed since the last completed sweep started (paced from starts,
 * like the cycles, so sweeps do not drift by their own duration), or when none has completed. A sweep that
 * failed is followed by one known cycle before it is tried again: a sweep that keeps failing (too slow for
 * scan.sweep_timeout) must not stop the known addresses from being scanned.
 */
export function chooseCycleScope(input: ScopeInput): CycleScope {
  if (!input.withInventory) return 'sweep';
  const previous = input.previousAttempt;
  if (previous?.scope === 'sweep' && !previous.success) return 'known';
  if (!input.lastSweep) return 'sweep';
  return input.now.getTime() - input.lastSweep.startedAt.getTime() >= input.sweepIntervalMs ? 'sweep' : 'known';
}

/**
 * The addresses a known cycle is asked to scan, before the plan filters them to its targets and shard: every
 * address an inventory names an owner for, and every address the last sweep found up.
 */
export function listKnownAddresses(
  inventory: InventorySnapshot,
  lastSweep: Pick<SweepInfo, 'upAddresses'> | undefined,
): string[] {
  return [...inventory.owners.keys(), ...(lastSweep?.upAddresses ?? [])];
}
