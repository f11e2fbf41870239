// The last sweep of the whole targets, with an inventory only (without one every cycle is a sweep, described by
// exposure_scan_*). Cached with the exposure families; absent until a sweep completed.
import type { GaugeFamily } from './exposition-writer.ts';
import type { SnapshotFamily, SnapshotInput } from './snapshot-exposition.ts';

const SWEEP_DURATION: GaugeFamily<never, SnapshotInput> = {
  name: 'exposure_sweep_duration_seconds',
  help: 'How long the last completed sweep of the whole targets took.',
  series({ snapshot }, set) {
    const last = snapshot?.sweep;
    if (last) set({}, (last.finishedAt.getTime() - last.startedAt.getTime()) / 1000);
  },
};

const SWEEP_LAST_SUCCESS: GaugeFamily<never, SnapshotInput> = {
  name: 'exposure_sweep_last_success_timestamp_seconds',
  help: 'When the last completed sweep of the whole targets finished, in seconds since the epoch.',
  series({ snapshot }, set) {
    const last = snapshot?.sweep;
    if (last) set({}, last.finishedAt.getTime() / 1000);
  },
};

const SWEEP_ADDRESSES_UP: GaugeFamily<never, SnapshotInput> = {
  name: 'exposure_sweep_addresses_up',
  help: 'Hosts that answered in the last completed sweep of the whole targets.',
  series({ snapshot }, set) {
    const last = snapshot?.sweep;
    if (last) set({}, last.hostsUp);
  },
};

const SWEEP_RANGES_SKIPPED: GaugeFamily<never, SnapshotInput> = {
  name: 'exposure_sweep_ranges_skipped',
  help: 'Target ranges larger than scan.max_targets, never swept: only their known addresses are scanned.',
  series({ config }, set) {
    set({}, config.settings.scan.unsweptRanges.length);
  },
};

/** In exposition order, which the golden file pins. */
export const SWEEP_FAMILIES: readonly SnapshotFamily[] = [
  SWEEP_DURATION,
  SWEEP_LAST_SUCCESS,
  SWEEP_ADDRESSES_UP,
  SWEEP_RANGES_SKIPPED,
];
