/** The exporter's own health, read off the health record, the snapshot or the config; nothing here measures. */
import type { Registry } from 'prom-client';
import type { ExporterState } from '../state/exporter-state.ts';
import { listAddressesOutsideTargets } from '../state/exporter-state.ts';
import type { GaugeFamily } from './exposition-writer.ts';
import { registerGauge, registerOptionalGauge, registerRenderedFamily } from './gauges.ts';
import type { SnapshotFamily, SnapshotInput } from './snapshot-exposition.ts';

// These three are absent until a cycle completed or a state was restored.
const SCAN_LAST_SUCCESS: GaugeFamily<never, SnapshotInput> = {
  name: 'exposure_scan_last_success_timestamp_seconds',
  help: 'When the last successful scan cycle finished, in seconds since the epoch (restored from the state file at start).',
  series({ snapshot }, set) {
    if (snapshot) set({}, snapshot.scan.finishedAt.getTime() / 1000);
  },
};

const SCAN_HOSTS_UP: GaugeFamily<never, SnapshotInput> = {
  name: 'exposure_scan_hosts_up',
  help: 'Hosts that answered. As of the last completed scan cycle.',
  series({ snapshot }, set) {
    if (snapshot) set({}, snapshot.scan.hostsUp);
  },
};

const SCAN_ADDRESSES_SILENT: GaugeFamily<never, SnapshotInput> = {
  name: 'exposure_scan_addresses_silent',
  help: 'Addresses in use (an inventory names them) that answered no probe at all: every probe dropped. As of the last completed scan cycle.',
  series({ snapshot }, set) {
    if (snapshot) set({}, snapshot.scan.addressesSilent);
  },
};

const SCAN_TARGETS: GaugeFamily<never, SnapshotInput> = {
  name: 'exposure_scan_targets',
  help: 'Addresses the current config scans, after exclusion.',
  series({ config }, set) {
    set({}, config.plan.targets.count());
  },
};

/** The cached ones, in exposition order, which the golden file pins. */
export const CYCLE_RESULT_FAMILIES: readonly SnapshotFamily[] = [
  SCAN_LAST_SUCCESS,
  SCAN_HOSTS_UP,
  SCAN_ADDRESSES_SILENT,
  SCAN_TARGETS,
];

/** The live ones, in exposition order, which the golden file pins. */
export function registerHealthMetrics(registry: Registry, state: ExporterState): void {
  registerLastCycleMetrics(registry, state);
  registerInventoryMetrics(registry, state);
  registerCycleMetrics(registry, state);
  registerStateWriteMetrics(registry, state);
  registerReloadMetrics(registry, state);
}

/** Absent before the first cycle ends. */
function registerLastCycleMetrics(registry: Registry, state: ExporterState): void {
  registerOptionalGauge(
    registry,
    { name: 'exposure_scan_success', help: 'Whether the last scan cycle succeeded (1) or failed (0).' },
    () => {
      const attempt = state.health.scan.lastAttempt;
      return attempt && Number(attempt.success);
    },
  );
  registerOptionalGauge(
    registry,
    { name: 'exposure_scan_duration_seconds', help: 'How long the last scan cycle took, successful or not.' },
    () => {
      const attempt = state.health.scan.lastAttempt;
      return attempt && (attempt.finishedAt.getTime() - attempt.startedAt.getTime()) / 1000;
    },
  );
}

/** Absent without an openstack block, and exposure_openstack_up also until the first read finished. */
function registerInventoryMetrics(registry: Registry, state: ExporterState): void {
  registerOptionalGauge(
    registry,
    {
      name: 'exposure_openstack_up',
      help: 'Whether the last OpenStack inventory read succeeded (1) or failed (0); absent without an openstack block.',
    },
    () => {
      const { up } = state.health.inventory;
      return state.config.settings.openstack && up !== undefined ? Number(up) : undefined;
    },
  );
  registerOptionalGauge(
    registry,
    {
      name: 'exposure_openstack_last_sync_timestamp_seconds',
      help: 'When the OpenStack inventory was last read successfully, in seconds since the epoch.',
    },
    () => {
      const { syncedAt } = state.health.inventory.lastGood;
      return syncedAt && syncedAt.getTime() / 1000;
    },
  );
  registerOptionalGauge(
    registry,
    {
      name: 'exposure_inventory_addresses_outside_targets',
      help: 'Public addresses the inventory knows (floating IPs, external and shared networks) that scan.targets does not cover.',
    },
    () => (state.config.settings.openstack ? listAddressesOutsideTargets(state).length : undefined),
  );
}

function registerCycleMetrics(registry: Registry, state: ExporterState): void {
  const scan = () => state.health.scan;
  registerGauge(
    registry,
    { name: 'exposure_scan_in_progress', help: 'Whether a scan cycle is running (1) or not (0).' },
    () => Number(scan().inProgress),
  );
  registerGauge(
    registry,
    {
      name: 'exposure_scan_progress_ratio',
      help: "Estimated progress of the running scan cycle from nmap's task progress, 0 to 1; 1 once a cycle completed.",
    },
    () => scan().progress,
  );
  const scansTotal = {
    name: 'exposure_scans_total',
    help: 'Scan cycles run since the exporter started, by result.',
    labelNames: ['result'] as const,
    counter: true,
  };
  registerRenderedFamily(registry, scansTotal, (set) => {
    set({ result: 'success' }, scan().results.success);
    set({ result: 'failure' }, scan().results.failure);
  });
  const rejectedTotal = {
    name: 'exposure_nmap_output_rejected_total',
    help: "Hosts and text fields of nmap's output dropped instead of trusted since the exporter started, by reason.",
    labelNames: ['reason'] as const,
    counter: true,
  };
  registerRenderedFamily(registry, rejectedTotal, (set) => {
    const rejected = scan().outputRejected;
    set({ reason: 'not_an_address' }, rejected.notAnAddress);
    set({ reason: 'outside_targets' }, rejected.outsideTargets);
    set({ reason: 'invalid_text' }, rejected.invalidText);
  });
}

function registerStateWriteMetrics(registry: Registry, state: ExporterState): void {
  registerOptionalGauge(
    registry,
    {
      name: 'exposure_state_last_write_successful',
      help: 'Whether the state file was written after the last completed scan cycle (1) or the write failed (0).',
    },
    () => {
      const { successful } = state.health.stateWrite;
      return successful === undefined ? undefined : Number(successful);
    },
  );
}

function registerReloadMetrics(registry: Registry, state: ExporterState): void {
  const reload = () => state.health.reload;
  registerGauge(
    registry,
    {
      name: 'exposure_config_last_reload_successful',
      help: 'Whether the last config reload succeeded (1) or was rejected and the previous config kept (0).',
    },
    () => Number(reload().successful),
  );
  registerGauge(
    registry,
    {
      name: 'exposure_config_last_reload_success_timestamp_seconds',
      help: 'When the config was last loaded successfully, in seconds since the epoch.',
    },
    () => reload().at.getTime() / 1000,
  );
}
