// The immutable result of one completed cycle, swapped in whole, so a scrape or a report always sees one
// complete cycle, never half of one.
import { parseAddress } from '../net/addresses.ts';
import type { ParsedAddress } from '../net/addresses.ts';
import type { Protocol } from '../net/port-spec.ts';
import type { ObservedHost, ObservedPort, ScanResult } from '../scan/types.ts';
import { findAdmittingRules, findLatentExposures } from './world-open-rules.ts';
import type { AdmittingRule, LatentExposure } from './world-open-rules.ts';

export type { AdmittingRule, LatentExposure } from './world-open-rules.ts';
import { classifyPort } from './classify.ts';
import type { Classification, ClassificationRules } from './classify.ts';
import { UNKNOWN_OWNER, UNLISTED_OWNER } from '../inventory/inventory.ts';
import type { AddressOwner, InventorySnapshot } from '../inventory/inventory.ts';
import { mergeHosts } from '../scan/scan-passes.ts';
import type { PassRuns } from '../scan/scan-passes.ts';
import { SEVERITIES } from './severity.ts';
import type { Severity } from './severity.ts';

export interface SnapshotPort extends ObservedPort, Classification {
  /** When this port was first seen open in the unbroken run of cycles that saw it open. */
  readonly firstSeen: Date;
  readonly admittedBy: readonly AdmittingRule[];
  /** null without a Neutron port or when security groups could not be read. */
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
  /** This replica's targets a sweep covers (the ranges too large to sweep left out). */
  readonly targets: number;
  /** The targets for a sweep, the known addresses otherwise. */
  readonly addressesScanned: number;
  readonly hostsUp: number;
  /** Addresses in use that answered no probe: silent, not scanned and clean. */
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

export interface SweepInfo {
  readonly startedAt: Date;
  readonly finishedAt: Date;
  readonly addressesScanned: number;
  readonly hostsUp: number;
  /** With an open port or given up on (up, ports unknown): what known cycles scan until the next sweep. */
  readonly upAddresses: readonly string[];
}

export interface Snapshot {
  readonly scan: ScanInfo;
  /** Undefined until a sweep has completed (and in state files written before sweeps existed). */
  readonly sweep?: SweepInfo | undefined;
  /** The last run of each pass besides TCP (UDP, verification); absent before their first. */
  readonly passes?: PassRuns | undefined;
  readonly inventory: InventoryInfo;
  readonly hosts: readonly SnapshotHost[];
  /** A reload reclassifies hosts at once but these only next cycle: the snapshot keeps no security groups. */
  readonly latent: readonly LatentExposure[];
  /** Empty for the very first snapshot, which is a baseline, not a change. */
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
  /** By default a sweep of the scanned addresses, as every cycle without an inventory. */
  readonly cycle?: { readonly scope: CycleScope; readonly targets: number; readonly addressesSilent?: number };
  /** Without it nothing is latent. */
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
      // Field by field, not spread: one shape per port, and nothing else the scanner's objects carry is retained.
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

// A host nmap gave up on has unknown ports, not closed ones: it keeps its previous TCP ports, so it neither closes
// nor reopens its exposures. Its UDP ports are the UDP pass's to keep or drop (pass-results.ts).
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

/** A reload's exceptions and severities take effect at once, not an interval later; first-seen and changes stay. */
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

export function diffSnapshots(previous: Snapshot, next: Snapshot): Snapshot['changes'] {
  return { opened: listPortsNotIn(next, indexHosts(previous)), closed: listPortsNotIn(previous, indexHosts(next)) };
}

// Keyed by the host's own address string, searched port by port (a handful each): no key text built per port.
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

function compareLatent(a: LatentExposure, b: LatentExposure): number {
  const portOrder = (port: number | 'all'): number => (port === 'all' ? 0 : port);
  return (
    compareHosts(a, b) ||
    a.protocol.localeCompare(b.protocol) ||
    portOrder(a.port) - portOrder(b.port) ||
    a.ruleId.localeCompare(b.ruleId)
  );
}

/** Numeric order (IPv4 before IPv6), so 10.0.0.9 sorts before 10.0.0.10. */
export function compareHosts(a: { ip: string }, b: { ip: string }): number {
  return compareAddresses({ ip: a.ip, address: parseAddress(a.ip) }, { ip: b.ip, address: parseAddress(b.ip) });
}

// Each address parsed once: parsing at every comparison cost 20,000 hosts some 600,000 parses.
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
