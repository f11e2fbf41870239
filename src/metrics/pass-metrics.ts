// The UDP and verification passes as of each one's last run, cached with the exposure families since they read
// the snapshot alone; a pass that is off or has not run has no series.
import { PASS_NAMES } from '../scan/scan-passes.ts';
import type { PassName, PassRun } from '../scan/scan-passes.ts';
import type { Snapshot } from '../exposure/snapshot.ts';
import type { GaugeFamily } from './exposition-writer.ts';
import type { SnapshotFamily, SnapshotInput } from './snapshot-exposition.ts';

function* lastRuns(snapshot: Snapshot | undefined): Generator<{ pass: PassName; run: PassRun }> {
  for (const pass of PASS_NAMES) {
    const run = snapshot?.passes?.[pass];
    if (run) yield { pass, run };
  }
}

const PASS_SUCCESS: GaugeFamily<'pass', SnapshotInput> = {
  name: 'exposure_scan_pass_success',
  help: 'Whether the last run of each scan pass besides the TCP scan (udp, verify) succeeded (1) or failed (0).',
  labelNames: ['pass'],
  series({ snapshot }, set) {
    for (const { pass, run } of lastRuns(snapshot)) set({ pass }, run.success ? 1 : 0);
  },
};

const PASS_DURATION: GaugeFamily<'pass', SnapshotInput> = {
  name: 'exposure_scan_pass_duration_seconds',
  help: 'How long the last run of each scan pass besides the TCP scan (udp, verify) took.',
  labelNames: ['pass'],
  series({ snapshot }, set) {
    for (const { pass, run } of lastRuns(snapshot))
      set({ pass }, (run.finishedAt.getTime() - run.startedAt.getTime()) / 1000);
  },
};

const PASS_LAST_SUCCESS: GaugeFamily<'pass', SnapshotInput> = {
  name: 'exposure_scan_pass_last_success_timestamp_seconds',
  help: 'When a run of each scan pass besides the TCP scan (udp, verify) last succeeded, in seconds since the epoch.',
  labelNames: ['pass'],
  series({ snapshot }, set) {
    for (const { pass, run } of lastRuns(snapshot))
      if (run.lastSuccessAt) set({ pass }, run.lastSuccessAt.getTime() / 1000);
  },
};

const PASS_SCANNED: GaugeFamily<'pass', SnapshotInput> = {
  name: 'exposure_scan_pass_targets',
  help: 'What the last run of each scan pass besides the TCP scan handed nmap: addresses (udp) or address:port pairs (verify).',
  labelNames: ['pass'],
  series({ snapshot }, set) {
    for (const { pass, run } of lastRuns(snapshot)) set({ pass }, run.scanned);
  },
};

/** In exposition order, which the golden file pins. */
export const PASS_FAMILIES: readonly SnapshotFamily[] = [PASS_SUCCESS, PASS_DURATION, PASS_LAST_SUCCESS, PASS_SCANNED];
