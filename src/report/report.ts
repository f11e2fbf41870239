/**
 * The JSON report (schema_version 1) of /report and --once, built from one snapshot; its `scan` block is the
 * last attempt, which may have failed while the hosts come from the last cycle that succeeded.
 */
import type { ExporterState } from '../state/exporter-state.ts';
import { stringifyInPieces } from '../state/json-pieces.ts';
import { SEVERITIES } from '../exposure/severity.ts';
import type { Severity } from '../exposure/severity.ts';
import type { AddressOwner } from '../inventory/inventory.ts';
import type { PassRun, PassRuns } from '../scan/scan-passes.ts';
import { summarizeHosts } from '../exposure/snapshot.ts';
import type { LatentExposure, Snapshot, SnapshotHost } from '../exposure/snapshot.ts';
import { renderRuleJson } from '../exposure/world-open-rules.ts';

export interface ReportFilter {
  readonly suspicious?: boolean;
  readonly tenant?: string;
  readonly severities?: readonly Severity[];
}

export type FilterParse = { ok: true; filter: ReportFilter } | { ok: false; message: string };

const FILTER_KEYS = ['suspicious', 'tenant', 'severity'];
const SINGLE_VALUE_KEYS = ['suspicious', 'tenant'];

/** Query parameters as URLSearchParams gives them; a repeated or comma-separated severity means any of them. */
export function parseReportFilter(query: URLSearchParams): FilterParse {
  const filter: { suspicious?: boolean; tenant?: string; severities?: Severity[] } = {};
  for (const key of new Set(query.keys())) {
    if (!FILTER_KEYS.includes(key)) {
      return {
        ok: false,
        message: `unknown filter ${JSON.stringify(key)} (expected one of ${FILTER_KEYS.join(', ')})`,
      };
    }
  }
  // `suspicious=true&suspicious=false` has no one meaning; taking the first would hide the conflict.
  for (const key of SINGLE_VALUE_KEYS) {
    const count = query.getAll(key).length;
    if (count > 1)
      return { ok: false, message: `${key} is given ${count} times; give it once (only severity may repeat)` };
  }
  const suspicious = query.get('suspicious');
  if (suspicious !== null) {
    if (suspicious !== 'true' && suspicious !== 'false') {
      return { ok: false, message: `suspicious=${JSON.stringify(suspicious)} must be true or false` };
    }
    filter.suspicious = suspicious === 'true';
  }
  const tenant = query.get('tenant');
  if (tenant !== null) filter.tenant = tenant;
  const severities = query.getAll('severity').flatMap((value) => value.split(','));
  if (severities.length > 0) {
    const unknown = severities.find((value) => !(SEVERITIES as readonly string[]).includes(value));
    if (unknown !== undefined) {
      return { ok: false, message: `severity=${JSON.stringify(unknown)} must be one of ${SEVERITIES.join(', ')}` };
    }
    filter.severities = severities as Severity[];
  }
  return { ok: true, filter };
}

export function buildReport(state: ExporterState, filter: ReportFilter, generatedAt: Date): object {
  return assembleReport(state, filter, generatedAt, (hosts) => hosts.map(renderHost));
}

/**
 * The text of JSON.stringify(buildReport(...), null, 2), in pieces, for --once to print. Each host is rendered
 * as it is written, so at no time do the rendered hosts (tens of megabytes at 20,000) exist all at once.
 */
export function renderReportJson(state: ExporterState, filter: ReportFilter, generatedAt: Date): Generator<string> {
  return stringifyInPieces(assembleReport(state, filter, generatedAt, renderEach), { indent: 2 });
}

function* renderEach(hosts: readonly SnapshotHost[]): Generator<object> {
  for (const host of hosts) yield renderHost(host);
}

function assembleReport(
  state: ExporterState,
  filter: ReportFilter,
  generatedAt: Date,
  renderHosts: (hosts: readonly SnapshotHost[]) => unknown,
): object {
  const snapshot = state.snapshot;
  const hosts = snapshot ? filterHosts(snapshot.hosts, filter) : [];
  const summary = summarizeHosts(hosts);
  return {
    schema_version: 1,
    generated_at: generatedAt.toISOString(),
    scan: renderScan(state, snapshot),
    inventory: snapshot
      ? {
          source: snapshot.inventory.source,
          up: snapshot.inventory.up,
          synced_at: snapshot.inventory.syncedAt?.toISOString() ?? null,
          servers: snapshot.inventory.servers,
          addresses: snapshot.inventory.addresses,
        }
      : null,
    summary: {
      open_ports: summary.openPorts,
      nonstandard_ports: summary.nonstandardPorts,
      excepted_ports: summary.exceptedPorts,
      suspicious_vms: summary.suspiciousHosts,
      by_severity: summary.bySeverity,
    },
    hosts: renderHosts(hosts),
    latent: snapshot ? filterLatent(snapshot.latent, filter).map(renderLatent) : [],
    changes: snapshot?.changes ?? { opened: [], closed: [] },
  };
}

/** Whether the report has at least one nonstandard port: what --fail-on-findings exits 3 for. */
export function hasFindings(state: ExporterState): boolean {
  return state.snapshot?.hosts.some((host) => host.suspicious) ?? false;
}

export function filterHosts(hosts: readonly SnapshotHost[], filter: ReportFilter): SnapshotHost[] {
  return hosts.flatMap((host) => {
    if (filter.suspicious !== undefined && host.suspicious !== filter.suspicious) return [];
    if (filter.tenant !== undefined && host.owner.tenant !== filter.tenant && host.owner.tenantId !== filter.tenant)
      return [];
    const wanted = filter.severities;
    if (wanted === undefined) return [host];
    // A severity filter keeps only the matching ports, and the hosts that still have one.
    const ports = host.ports.filter((port) => port.severity !== null && wanted.includes(port.severity));
    return ports.length > 0 ? [{ ...host, ports }] : [];
  });
}

/** The tenant and severity filters apply as to hosts; `suspicious` is about open ports, which these are not. */
function filterLatent(latent: readonly LatentExposure[], filter: ReportFilter): LatentExposure[] {
  return latent.filter((entry) => {
    if (filter.tenant !== undefined && entry.owner.tenant !== filter.tenant && entry.owner.tenantId !== filter.tenant)
      return false;
    return filter.severities === undefined || filter.severities.includes(entry.severity);
  });
}

function renderScan(state: ExporterState, snapshot: Snapshot | undefined): object | null {
  const attempt = state.health.scan.lastAttempt;
  const startedAt = attempt?.startedAt ?? snapshot?.scan.startedAt;
  const finishedAt = attempt?.finishedAt ?? snapshot?.scan.finishedAt;
  if (!startedAt || !finishedAt) return null;
  return {
    started_at: startedAt.toISOString(),
    finished_at: finishedAt.toISOString(),
    duration_seconds: (finishedAt.getTime() - startedAt.getTime()) / 1000,
    success: attempt?.success ?? true,
    error: attempt?.error ?? null,
    last_success_at: snapshot?.scan.finishedAt.toISOString() ?? null,
    // Of the last attempt, like its times: a failed sweep says it was a sweep.
    scope: attempt?.scope ?? snapshot?.scan.scope ?? 'sweep',
    addresses_scanned: attempt?.addressesScanned ?? snapshot?.scan.addressesScanned ?? 0,
    targets: snapshot?.scan.targets ?? state.config.plan.targets.count(),
    hosts_up: snapshot?.scan.hostsUp ?? 0,
    addresses_silent: snapshot?.scan.addressesSilent ?? 0,
    nmap: { version: snapshot?.scan.nmapVersion ?? '', args: snapshot?.scan.nmapArgs.flat() ?? [] },
    // The passes besides the TCP scan, once each has run: the last run, which may be older than this cycle.
    ...renderPasses(snapshot?.passes),
  };
}

function renderPasses(passes: PassRuns | undefined): object {
  const rendered: Record<string, object> = {};
  if (passes?.udp) rendered['udp'] = { ...renderPassRun(passes.udp), addresses_scanned: passes.udp.scanned };
  if (passes?.verify) rendered['verify'] = { ...renderPassRun(passes.verify), ports_verified: passes.verify.scanned };
  return rendered;
}

function renderPassRun(run: PassRun): object {
  return {
    started_at: run.startedAt.toISOString(),
    finished_at: run.finishedAt.toISOString(),
    duration_seconds: (run.finishedAt.getTime() - run.startedAt.getTime()) / 1000,
    success: run.success,
    error: run.error,
    nmap_args: run.nmapArgs,
  };
}

function renderHost(host: SnapshotHost): object {
  return {
    ip: host.ip,
    vm: renderVm(host.owner),
    suspicious: host.suspicious,
    ports: host.ports.map((port) => ({
      port: port.port,
      protocol: port.protocol,
      service: port.service,
      class: port.class,
      severity: port.severity,
      first_seen: port.firstSeen.toISOString(),
      exception: port.exception,
      admitted_by: port.admittedBy.map(renderRuleJson),
      port_security: port.portSecurity,
      // Only on verified ports: what answered, and whether a safe script got in without credentials.
      ...(port.detected
        ? {
            product: port.detected.product,
            version: port.detected.version,
            unauthenticated: port.detected.unauthenticated,
          }
        : {}),
    })),
  };
}

function renderLatent(entry: LatentExposure): object {
  return {
    ip: entry.ip,
    port: entry.port,
    protocol: entry.protocol,
    severity: entry.severity,
    security_group_id: entry.securityGroupId,
    security_group: entry.securityGroup,
    rule_id: entry.ruleId,
    vm: renderVm(entry.owner),
  };
}

export function renderVm(owner: AddressOwner): object | null {
  // `unknown` is what an inventory says of an address none of its sources lists: no owner to show.
  const known = owner.vmId !== '' || (owner.ownerKind !== '' && owner.ownerKind !== 'unknown');
  if (!known) return null;
  return {
    id: owner.vmId,
    name: owner.vmName,
    status: owner.vmStatus,
    owner_kind: owner.ownerKind,
    user_id: owner.userId,
    user: owner.user,
    user_email: owner.userEmail,
    tenant_id: owner.tenantId,
    tenant: owner.tenant,
  };
}
