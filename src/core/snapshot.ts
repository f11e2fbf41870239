/**
 * The immutable result of one completed cycle. A cycle builds a whole new snapshot and the exporter swaps it
 * in at once, so a scrape or a report always sees one complete cycle, never half of one.
 */
import { parseAddress } from '../net/addresses.ts';
import type { ParsedAddress } from '../net/addresses.ts';
import type { Protocol } from '../net/port-spec.ts';
import type { ObservedHost, ObservedPort, ScanResult } from '../scan/types.ts';
import { findAdmittingRules, findLatentExposures } from './world-open-rules.ts';
import type { AdmittingRule, LatentExposure } from './world-open-rules.ts';

export type { AdmittingRule, LatentExposure } from './world-open-rules.ts';
import { classifyPort } from './classify.ts';
import type { Classification, ClassificationRules } from './classify.ts';
import { UNKNOWN_OWNER, UNLISTED_OWNER } from './inventory.ts';
import type { AddressOwner, InventorySnapshot } from './inventory.ts';
import { mergeHosts } from './scan-passes.ts';
import type { PassRuns } from './scan-passes.ts';
import { SEVERITIES } from './severity.ts';
import type { Severity } from './severity.ts';

export interface SnapshotPort extends ObservedPort, Classification {
  /** When this port was first seen open in the unbroken run of cycles that saw it open. */
  readonly firstSeen: Date;
  /** Empty when no world-open rule admits it (or nothing is known about the address's port). */
  readonly admittedBy: readonly AdmittingRule[];
  /** The Neutron port's port_security_enabled; null without a Neutron port or when groups could not be read. */
  readonly portSecurity: boolean | null;
}

export interface SnapshotHost {
  readonly ip: string;
  readonly owner: AddressOwner;
  readonly ports: readonly SnapshotPort[];
  /** At least one nonstandard port. */
  readonly suspicious: boolean;
}

export interface PortRef {
  readonly ip: string;
  readonly port: number;
  readonly protocol: Protocol;
}

/** A sweep scans the whole targets; a known cycle only the addresses an inventory or the last sweep named. */
export type CycleScope = 'known' | 'sweep';

export interface ScanInfo {
  readonly startedAt: Date;
  readonly finishedAt: Date;
  readonly scope: CycleScope;
  /** The addresses of this replica's targets a sweep covers (the ranges too large to sweep left out). */
  readonly targets: number;
  /** The addresses this cycle handed nmap: the targets for a sweep, the known addresses otherwise. */
  readonly addressesScanned: number;
  readonly hostsUp: number;
  /** Addresses in use that answered no probe (scheduler.ts countSilent): silent, not scanned and clean. */
  readonly addressesSilent: number;
  readonly nmapVersion: string;
  readonly nmapArgs: readonly (readonly string[])[];
}

export interface InventoryInfo {
  readonly source: InventorySnapshot['source'];
  readonly up: boolean;
  readonly syncedAt: Date | undefined;
  readonly servers: number;
  readonly addresses: number;
}

/** The last completed sweep, carried from snapshot to snapshot (and in the state file) until the next one. */
export interface SweepInfo {
  readonly startedAt: Date;
  readonly finishedAt: Date;
  readonly addressesScanned: number;
  /** Hosts nmap counted up. */
  readonly hostsUp: number;
  /**
   * The addresses it found with an open port (or gave up on: up, ports unknown), which the known cycles
   * until the next sweep scan too. nmap's --open output names no other hosts.
   */
  readonly upAddresses: readonly string[];
}

export interface Snapshot {
  readonly scan: ScanInfo;
  /** Undefined until a sweep has completed (and in state files written before sweeps existed). */
  readonly sweep?: SweepInfo | undefined;
  /** The last run of each configured pass besides the TCP scan (UDP, verification); absent before their first. */
  readonly passes?: PassRuns | undefined;
  readonly inventory: InventoryInfo;
  readonly hosts: readonly SnapshotHost[];
  /**
   * From the inventory when the cycle ran. A reload that changes severities or exceptions reclassifies the
   * hosts at once but these only with the next cycle, since the snapshot keeps no security groups.
   */
  readonly latent: readonly LatentExposure[];
  /** Against the previous snapshot; empty for the very first one, which is a baseline, not a change. */
  readonly changes: { readonly opened: readonly PortRef[]; readonly closed: readonly PortRef[] };
}

export interface SnapshotSummary {
  readonly openPorts: number;
  readonly standardPorts: number;
  readonly nonstandardPorts: number;
  readonly exceptedPorts: number;
  readonly suspiciousHosts: number;
  readonly bySeverity: Readonly<Record<Severity, number>>;
}

export function buildSnapshot(input: {
  readonly result: ScanResult;
  readonly inventory: InventorySnapshot;
  readonly rules: ClassificationRules;
  readonly previous: Snapshot | undefined;
  /** What the cycle covered; by default a sweep of the scanned addresses, as every cycle without an inventory. */
  readonly cycle?: { readonly scope: CycleScope; readonly targets: number; readonly addressesSilent?: number };
  /** Whether this replica scans an address (its scan plan's targets); without it nothing is latent. */
  readonly scanned?: (address: string) => boolean;
  readonly passes?: PassRuns | undefined;
}): Snapshot {
  const { result, inventory, rules, previous } = input;
  const cycle = input.cycle ?? { scope: 'sweep', targets: result.targets };
  // With an inventory, an address none of its sources knows is worth saying so: that is what a sweep finds.
  const unknownOwner = inventory.source === 'none' ? UNKNOWN_OWNER : UNLISTED_OWNER;
  const now = result.finishedAt;
  const earlier = indexHosts(previous);
  const hosts = sortHosts(
    mergeHosts(
      result.hosts.filter((host) => host.openPorts.length > 0),
      carryOverTimedOut(result, previous),
    ).map((host) => {
      const owner = inventory.owners.get(host.ip) ?? unknownOwner;
      const security = inventory.security.get(host.ip);
      // Field by field rather than spread: one object per port, all of one shape, and nothing else the
      // scanner's port objects may carry is kept for the snapshot's lifetime.
      const ports = host.openPorts.map((port): SnapshotPort => {
        const classification = classifyPort(rules, { ip: host.ip, owner, port }, now);
        return {
          port: port.port,
          protocol: port.protocol,
          service: port.service,
          ...(port.detected ? { detected: port.detected } : {}),
          class: classification.class,
          severity: classification.severity,
          exception: classification.exception,
          firstSeen: findPort(earlier.get(host.ip), port)?.firstSeen ?? now,
          admittedBy: findAdmittingRules(host.ip, port.port, port.protocol, security),
          portSecurity: security?.portSecurity ?? null,
        };
      });
      return buildHost(host.ip, owner, ports);
    }),
  );
  const snapshot: Snapshot = {
    scan: {
      startedAt: result.startedAt,
      finishedAt: result.finishedAt,
      scope: cycle.scope,
      targets: cycle.targets,
      addressesScanned: result.targets,
      hostsUp: result.hostsUp,
      addressesSilent: cycle.addressesSilent ?? result.silentHosts.length,
      nmapVersion: result.nmapVersion,
      nmapArgs: result.nmapArgs,
    },
    sweep: cycle.scope === 'sweep' ? buildSweepInfo(result) : previous?.sweep,
    ...(input.passes ? { passes: input.passes } : {}),
    inventory: {
      source: inventory.source,
      up: inventory.up,
      syncedAt: inventory.syncedAt,
      servers: inventory.servers,
      addresses: inventory.owners.size,
    },
    hosts,
    latent: input.scanned
      ? findLatentExposures({
          security: inventory.security,
          owners: inventory.owners,
          rules,
          scanned: input.scanned,
          now,
        }).sort(compareLatent)
      : [],
    changes: { opened: [], closed: [] },
  };
  return previous ? { ...snapshot, changes: diffSnapshots(previous, snapshot) } : snapshot;
}

/** What a scan found up: the addresses with an open port, and those nmap gave up on (up, ports unknown). */
export function listFoundAddresses(result: ScanResult): string[] {
  return [...result.hosts.filter((host) => host.openPorts.length > 0).map((host) => host.ip), ...result.timedOutHosts];
}

function buildSweepInfo(result: ScanResult): SweepInfo {
  const up = new Set(listFoundAddresses(result));
  return {
    startedAt: result.startedAt,
    finishedAt: result.finishedAt,
    addressesScanned: result.targets,
    hostsUp: result.hostsUp,
    upAddresses: [...up]
      .map((ip) => ({ ip }))
      .sort(compareHosts)
      .map(({ ip }) => ip),
  };
}

/**
 * A host nmap gave up on (host_timeout) has unknown ports, not closed ones: it keeps what the previous
 * snapshot saw, so a slow host neither closes its exposures nor reopens them with a new first-seen. Its TCP
 * ports only: its UDP ports are the UDP pass's to keep or drop (pass-results.ts).
 */
function carryOverTimedOut(result: ScanResult, previous: Snapshot | undefined): ObservedHost[] {
  if (!previous || result.timedOutHosts.length === 0) return [];
  const timedOut = new Set(result.timedOutHosts);
  return previous.hosts
    .filter((host) => timedOut.has(host.ip))
    .map((host) => ({
      ip: host.ip,
      openPorts: host.ports
        .filter((port) => port.protocol !== 'udp')
        .map(({ port, protocol, service, detected }) => ({
          port,
          protocol,
          service,
          ...(detected ? { detected } : {}),
        })),
    }));
}

/**
 * The same scan under new rules: a reload that adds an exception or changes a severity takes effect at
 * once instead of an interval later. First-seen times and changes stay as they were.
 */
export function reclassifySnapshot(snapshot: Snapshot, rules: ClassificationRules, now: Date): Snapshot {
  const hosts = snapshot.hosts.map((host) =>
    buildHost(
      host.ip,
      host.owner,
      host.ports.map((port) => ({ ...port, ...classifyPort(rules, { ip: host.ip, owner: host.owner, port }, now) })),
    ),
  );
  return { ...snapshot, hosts };
}

/** Ports open now that were not open before, and the reverse, over every class of port. */
export function diffSnapshots(previous: Snapshot, next: Snapshot): Snapshot['changes'] {
  return { opened: listPortsNotIn(next, indexHosts(previous)), closed: listPortsNotIn(previous, indexHosts(next)) };
}

/**
 * Each host's ports by address. Keyed by the address string the host already holds, and searched port by
 * port within a host (a handful each), so indexing a snapshot builds no key text per port.
 */
function indexHosts(snapshot: Snapshot | undefined): Map<string, readonly SnapshotPort[]> {
  const index = new Map<string, readonly SnapshotPort[]>();
  for (const host of snapshot?.hosts ?? []) {
    const known = index.get(host.ip);
    index.set(host.ip, known ? [...known, ...host.ports] : host.ports);
  }
  return index;
}

function findPort(
  ports: readonly SnapshotPort[] | undefined,
  wanted: { port: number; protocol: Protocol },
): SnapshotPort | undefined {
  return ports?.find((port) => port.port === wanted.port && port.protocol === wanted.protocol);
}

/** The snapshot's ports that the index does not have, in the snapshot's order, each listed once. */
function listPortsNotIn(snapshot: Snapshot, index: ReadonlyMap<string, readonly SnapshotPort[]>): PortRef[] {
  const refs: PortRef[] = [];
  const listed = new Map<string, SnapshotPort[]>();
  for (const host of snapshot.hosts) {
    const other = index.get(host.ip);
    for (const port of host.ports) {
      if (findPort(other, port)) continue;
      const seen = listed.get(host.ip) ?? [];
      if (findPort(seen, port)) continue;
      seen.push(port);
      listed.set(host.ip, seen);
      refs.push({ ip: host.ip, port: port.port, protocol: port.protocol });
    }
  }
  return refs;
}

export function summarizeHosts(hosts: readonly SnapshotHost[]): SnapshotSummary {
  const bySeverity = Object.fromEntries(SEVERITIES.map((severity) => [severity, 0])) as Record<Severity, number>;
  let openPorts = 0;
  let standardPorts = 0;
  let exceptedPorts = 0;
  for (const port of hosts.flatMap((host) => host.ports)) {
    openPorts += 1;
    if (port.class === 'standard') standardPorts += 1;
    else if (port.class === 'excepted') exceptedPorts += 1;
    else if (port.severity) bySeverity[port.severity] += 1;
  }
  return {
    openPorts,
    standardPorts,
    nonstandardPorts: openPorts - standardPorts - exceptedPorts,
    exceptedPorts,
    suspiciousHosts: hosts.filter((host) => host.suspicious).length,
    bySeverity,
  };
}

function buildHost(ip: string, owner: AddressOwner, ports: SnapshotPort[]): SnapshotHost {
  ports.sort((a, b) => a.protocol.localeCompare(b.protocol) || a.port - b.port);
  return { ip, owner, ports, suspicious: ports.some((port) => port.class === 'nonstandard') };
}

/** By address, then protocol, then port (all ports first), then rule: the order of the report and the metric. */
function compareLatent(a: LatentExposure, b: LatentExposure): number {
  const portOrder = (port: number | 'all'): number => (port === 'all' ? 0 : port);
  return (
    compareHosts(a, b) ||
    a.protocol.localeCompare(b.protocol) ||
    portOrder(a.port) - portOrder(b.port) ||
    a.ruleId.localeCompare(b.ruleId)
  );
}

/** Numeric address order (IPv4 before IPv6), so 10.0.0.9 sorts before 10.0.0.10. */
export function compareHosts(a: { ip: string }, b: { ip: string }): number {
  return compareAddresses({ ip: a.ip, address: parseAddress(a.ip) }, { ip: b.ip, address: parseAddress(b.ip) });
}

/**
 * The hosts in compareHosts' order, each address parsed once: parsing at every comparison cost 20,000 hosts
 * some 600,000 parses, most of building their snapshot.
 */
function sortHosts<T extends { ip: string }>(hosts: readonly T[]): T[] {
  return hosts
    .map((host) => ({ host, ip: host.ip, address: parseAddress(host.ip) }))
    .sort(compareAddresses)
    .map(({ host }) => host);
}

function compareAddresses(
  a: { ip: string; address: ParsedAddress | undefined },
  b: { ip: string; address: ParsedAddress | undefined },
): number {
  const left = a.address;
  const right = b.address;
  if (!left || !right) return a.ip.localeCompare(b.ip);
  if (left.family !== right.family) return left.family - right.family;
  return left.value < right.value ? -1 : left.value > right.value ? 1 : 0;
}
