/**
 * The sweeps of the whole targets, with an inventory only: between sweeps the cycles scan the known addresses,
 * so exposure_scan_* describe those, and these gauges the last sweep (restored from the state file at start).
 * Registered only when the exporter starts with an inventory: without one every cycle is a sweep and the
 * scan gauges already say everything.
 */
import type { Registry } from 'prom-client';
import type { ExporterState } from '../core/exporter-state.ts';
import { registerGauge, registerOptionalGauge } from './gauges.ts';

export function registerSweepMetrics(registry: Registry, state: ExporterState): void {
  const sweep = () => state.snapshot?.sweep;
  registerOptionalGauge(
    registry,
    { name: 'exposure_sweep_duration_seconds', help: 'How long the last completed sweep of the whole targets took.' },
    () => {
      const last = sweep();
      return last && (last.finishedAt.getTime() - last.startedAt.getTime()) / 1000;
    },
  );
  registerOptionalGauge(
    registry,
    {
      name: 'exposure_sweep_last_success_timestamp_seconds',
      help: 'When the last completed sweep of the whole targets finished, in seconds since the epoch.',
    },
    () => sweep() && sweep()!.finishedAt.getTime() / 1000,
  );
  registerOptionalGauge(
    registry,
    { name: 'exposure_sweep_addresses_up', help: 'Hosts that answered in the last completed sweep of the whole targets.' },
    () => sweep()?.hostsUp,
  );
  registerGauge(
    registry,
    {
      name: 'exposure_sweep_ranges_skipped',
      help: 'Target ranges larger than scan.max_targets, never swept: only their known addresses are scanned.',
    },
    () => state.config.settings.scan.unsweptRanges.length,
  );
}
