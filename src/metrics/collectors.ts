/**
 * Every exposure_ metric, rendered at scrape time from the exporter state. collect() only reads the current
 * snapshot, resetting each metric first, so a closed port's series disappears with the cycle that saw it
 * closed and no scrape ever mixes two cycles (prom-client's collect callback, writing_exporters.md).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ExporterState } from '../core/exporter-state.ts';
import { listAddressesOutsideTargets } from '../core/inventory-refresher.ts';
import type { PortClass } from '../core/classify.ts';
import { summarizeHosts } from '../core/snapshot.ts';
import type { SnapshotHost, SnapshotPort } from '../core/snapshot.ts';

export interface BuildInfo {
  readonly version: string;
  readonly revision: string;
  readonly nodejsVersion: string;
  readonly nmapVersion: string;
}

const FROM_LAST_CYCLE = 'As of the last completed scan cycle.';

/** Registers the exporter's metrics on a registry the caller owns (no global registry). */
function registerExporterMetrics(registry: Registry, options: { state: ExporterState; build: BuildInfo }): void {
  const { state, build } = options;
  const registers = [registry];

  new Gauge({
    name: 'exposure_port_open',
    help: `Nonstandard open port (1), labelled with its owner. ${FROM_LAST_CYCLE}`,
    labelNames: ['ip', 'port', 'protocol', 'service', 'severity', 'vm_id', 'vm_name', 'user', 'tenant'],
    registers,
    collect() {
      this.reset();
      for (const { host, port } of portsOfClass(state, 'nonstandard')) {
        const { owner } = host;
        this.set(
          {
            ip: host.ip,
            port: port.port,
            protocol: port.protocol,
            service: port.service,
            severity: port.severity ?? '',
            vm_id: owner.vmId,
            vm_name: owner.vmName,
            user: owner.user,
            tenant: owner.tenant,
          },
          1,
        );
      }
    },
  });

  new Gauge({
    name: 'exposure_port_first_seen_timestamp_seconds',
    help: `When a nonstandard open port was first seen open, in seconds since the epoch. ${FROM_LAST_CYCLE}`,
    labelNames: ['ip', 'port', 'protocol'],
    registers,
    collect() {
      this.reset();
      for (const { host, port } of portsOfClass(state, 'nonstandard')) {
        this.set({ ip: host.ip, port: port.port, protocol: port.protocol }, port.firstSeen.getTime() / 1000);
      }
    },
  });

  new Gauge({
    name: 'exposure_port_excepted',
    help: `Open port covered by an unexpired exception (1). ${FROM_LAST_CYCLE}`,
    labelNames: ['ip', 'port', 'protocol', 'exception'],
    registers,
    collect() {
      this.reset();
      for (const { host, port } of portsOfClass(state, 'excepted')) {
        this.set({ ip: host.ip, port: port.port, protocol: port.protocol, exception: port.exception ?? '' }, 1);
      }
    },
  });

  new Gauge({
    name: 'exposure_vm_nonstandard_ports',
    help: `Number of nonstandard open ports per address that has any. ${FROM_LAST_CYCLE}`,
    labelNames: ['ip', 'vm_id', 'vm_name', 'user', 'tenant'],
    registers,
    collect() {
      this.reset();
      for (const host of state.snapshot?.hosts ?? []) {
        const count = host.ports.filter((port) => port.class === 'nonstandard').length;
        if (count === 0) continue;
        const { owner } = host;
        this.set({ ip: host.ip, vm_id: owner.vmId, vm_name: owner.vmName, user: owner.user, tenant: owner.tenant }, count);
      }
    },
  });

  new Gauge({
    name: 'exposure_vm_info',
    help: `Owner of each address with open ports (1); labels are empty where the inventory does not know them. ${FROM_LAST_CYCLE}`,
    labelNames: ['ip', 'vm_id', 'vm_name', 'vm_status', 'owner_kind', 'user', 'user_id', 'tenant', 'tenant_id'],
    registers,
    collect() {
      this.reset();
      for (const { ip, owner } of state.snapshot?.hosts ?? []) {
        this.set(
          {
            ip,
            vm_id: owner.vmId,
            vm_name: owner.vmName,
            vm_status: owner.vmStatus,
            owner_kind: owner.ownerKind,
            user: owner.user,
            user_id: owner.userId,
            tenant: owner.tenant,
            tenant_id: owner.tenantId,
          },
          1,
        );
      }
    },
  });

  new Gauge({
    name: 'exposure_open_ports',
    help: `Open ports by class: standard, nonstandard, excepted. ${FROM_LAST_CYCLE}`,
    labelNames: ['class'],
    registers,
    collect() {
      this.reset();
      const { snapshot } = state;
      if (!snapshot) return;
      const summary = summarizeHosts(snapshot.hosts);
      this.set({ class: 'standard' }, summary.standardPorts);
      this.set({ class: 'nonstandard' }, summary.nonstandardPorts);
      this.set({ class: 'excepted' }, summary.exceptedPorts);
    },
  });

  new Counter({
    name: 'exposure_port_changes_total',
    help: 'Open ports that opened or closed between consecutive completed cycles, since the exporter started.',
    labelNames: ['change'],
    registers,
    collect() {
      this.reset();
      this.inc({ change: 'opened' }, state.changes.opened);
      this.inc({ change: 'closed' }, state.changes.closed);
    },
  });

  new Gauge({
    name: 'exposure_exception_expiry_timestamp_seconds',
    help: 'When each configured exception expires, in seconds since the epoch.',
    labelNames: ['exception'],
    registers,
    collect() {
      this.reset();
      for (const exception of state.config.settings.exceptions) {
        this.set({ exception: exception.name }, exception.expiresAt.getTime() / 1000);
      }
    },
  });

  registerHealthMetrics(registry, state);

  new Gauge({
    name: 'exposure_shard_info',
    help: 'Which part of the targets this replica scans (1): shard I of N; 0 of 1 when not sharded.',
    labelNames: ['shard', 'shards'],
    registers,
    collect() {
      this.reset();
      const { shard } = state.config.settings.scan;
      this.set({ shard: String(shard.index), shards: String(shard.count) }, 1);
    },
  });

  new Gauge({
    name: 'exposure_build_info',
    help: 'Build information of the exporter and the nmap it runs (1).',
    labelNames: ['version', 'revision', 'nodejs_version', 'nmap_version'],
    registers,
    collect() {
      this.reset();
      this.set(
        { version: build.version, revision: build.revision, nodejs_version: build.nodejsVersion, nmap_version: build.nmapVersion },
        1,
      );
    },
  });
}

/** The open ports of one class in the current snapshot, each with its host. */
function* portsOfClass(state: ExporterState, portClass: PortClass): Generator<{ host: SnapshotHost; port: SnapshotPort }> {
  for (const host of state.snapshot?.hosts ?? []) {
    for (const port of host.ports) {
      if (port.class === portClass) yield { host, port };
    }
  }
}

function registerHealthMetrics(registry: Registry, state: ExporterState): void {
  const registers = [registry];
  /**
   * A gauge without labels that is absent, not 0, while there is nothing to report (before the first
   * cycle, without an inventory): prom-client's reset() leaves an unlabelled gauge at 0, remove() drops it.
   */
  const optionalGauge = (name: string, help: string, read: () => number | undefined) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.reset();
        this.remove();
        const value = read();
        if (value !== undefined) this.set(value);
      },
    });
  optionalGauge('exposure_scan_success', 'Whether the last scan cycle succeeded (1) or failed (0).', () => {
    const attempt = state.lastAttempt;
    return attempt && (attempt.success ? 1 : 0);
  });
  optionalGauge('exposure_scan_duration_seconds', 'How long the last scan cycle took, successful or not.', () => {
    const attempt = state.lastAttempt;
    return attempt && (attempt.finishedAt.getTime() - attempt.startedAt.getTime()) / 1000;
  });
  optionalGauge(
    'exposure_scan_last_success_timestamp_seconds',
    'When the last successful scan cycle finished, in seconds since the epoch (restored from the state file at start).',
    () => state.snapshot && state.snapshot.scan.finishedAt.getTime() / 1000,
  );
  optionalGauge('exposure_scan_hosts_up', `Hosts that answered. ${FROM_LAST_CYCLE}`, () => state.snapshot?.scan.hostsUp);
  optionalGauge(
    'exposure_openstack_up',
    'Whether the last OpenStack inventory read succeeded (1) or failed (0); absent without an openstack block.',
    () => {
      if (!state.config.settings.openstack || state.inventoryUp === undefined) return undefined;
      return state.inventoryUp ? 1 : 0;
    },
  );
  optionalGauge(
    'exposure_openstack_last_sync_timestamp_seconds',
    'When the OpenStack inventory was last read successfully, in seconds since the epoch.',
    () => state.inventory.syncedAt && state.inventory.syncedAt.getTime() / 1000,
  );
  optionalGauge(
    'exposure_inventory_addresses_outside_targets',
    'Public addresses the inventory knows (floating IPs, external and shared networks) that scan.targets does not cover.',
    () => (state.config.settings.openstack ? listAddressesOutsideTargets(state).length : undefined),
  );

  new Gauge({
    name: 'exposure_scan_targets',
    help: 'Addresses the current config scans, after exclusion.',
    registers,
    collect() {
      this.reset();
      this.set(state.config.plan.targets.count());
    },
  });
  new Gauge({
    name: 'exposure_scan_in_progress',
    help: 'Whether a scan cycle is running (1) or not (0).',
    registers,
    collect() {
      this.reset();
      this.set(state.inProgress ? 1 : 0);
    },
  });
  new Gauge({
    name: 'exposure_scan_progress_ratio',
    help: "Estimated progress of the running scan cycle from nmap's task progress, 0 to 1; 1 once a cycle completed.",
    registers,
    collect() {
      this.reset();
      this.set(state.progress);
    },
  });
  new Counter({
    name: 'exposure_scans_total',
    help: 'Scan cycles run since the exporter started, by result.',
    labelNames: ['result'],
    registers,
    collect() {
      this.reset();
      this.inc({ result: 'success' }, state.results.success);
      this.inc({ result: 'failure' }, state.results.failure);
    },
  });
  new Gauge({
    name: 'exposure_config_last_reload_successful',
    help: 'Whether the last config reload succeeded (1) or was rejected and the previous config kept (0).',
    registers,
    collect() {
      this.reset();
      this.set(state.reload.successful ? 1 : 0);
    },
  });
  new Gauge({
    name: 'exposure_config_last_reload_success_timestamp_seconds',
    help: 'When the config was last loaded successfully, in seconds since the epoch.',
    registers,
    collect() {
      this.reset();
      this.set(state.reload.at.getTime() / 1000);
    },
  });
}

/** What /metrics serves; the HTTP layer sees this, never prom-client. */
export interface MetricsEndpoint {
  readonly contentType: string;
  render(): Promise<string>;
  /** Records one OpenStack API request, for exposure_openstack_request_duration_seconds. */
  observeOpenStackRequest(service: string, seconds: number): void;
}

/**
 * A registry of its own (never prom-client's global one) with the exporter's metrics, plus Node.js process
 * metrics unless left out, which keeps golden files stable.
 */
export function createMetricsEndpoint(options: { state: ExporterState; build: BuildInfo; processMetrics: boolean }): MetricsEndpoint {
  const registry = new Registry();
  registerExporterMetrics(registry, options);
  // Observed as requests happen, unlike everything else here: latency is a stream, not a state.
  const requestDuration = new Histogram({
    name: 'exposure_openstack_request_duration_seconds',
    help: 'Duration of OpenStack API requests, by service type.',
    labelNames: ['service'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  if (options.processMetrics) registerProcessMetrics(registry);
  return {
    contentType: registry.contentType,
    render: () => registry.metrics(),
    observeOpenStackRequest: (service, seconds) => requestDuration.observe({ service }, seconds),
  };
}

/** Node.js process metrics: CPU, memory, event loop lag. */
function registerProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
  // prom-client exports these sums as gauges named _total, which promtool's lint rejects; the per-type
  // nodejs_active_* gauges it also exports carry the same numbers.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
    registry.removeSingleMetric(name);
  }
}
