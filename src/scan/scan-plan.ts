/**
 * What every cycle of one config scans: this replica's share of the targets and the nmap port list, built
 * from the scan settings at each config load. Building a plan enumerates nothing (the shard is a filter,
 * see shard.ts), so a reload with a large target list is as quick as one with a small list.
 */
import type { ScanConfig } from '../config/schema.ts';
import type { Shard } from '../config/shard-setting.ts';
import { formatAddress, parseAddress, setContains } from '../net/addresses.ts';
import type { ParsedAddress, TargetSet } from '../net/addresses.ts';
import { ALL_PORTS, mergePortIntervals, parsePortSpec, renderPortSpec } from '../net/port-spec.ts';
import { NMAP_TOP_1000_TCP } from './nmap-top-ports.ts';
import { DEFAULT_UDP_PORTS } from './udp-ports.ts';
import { AddressListTargets } from './address-list.ts';
import { selectShard, shardOfAddress } from './shard.ts';
import type { ShardedTargets } from './shard.ts';

export interface ScanPlan {
  /** What a sweep scans: this replica's share of the targets, minus the ranges too large to sweep. */
  readonly targets: ShardedTargets;
  /** Every target, swept or not: nothing outside it is ever scanned, known addresses included. */
  readonly boundary: TargetSet;
  readonly shard: Shard;
  /** The nmap TCP port list, keywords expanded. */
  readonly ports: string;
  /** The UDP pass's port list, keywords expanded; undefined when the pass is off. */
  readonly udpPorts: string | undefined;
}

export interface ScanPlanOptions {
  /**
   * TCP ports that `ports: default` adds to nmap's top 1000: the ports of the severity table, which the
   * caller passes because the table belongs to classification, not to scanning.
   */
  readonly riskyPorts: readonly number[];
  /** The same for UDP: `scan.udp.ports: default` adds them to the amplifier list. */
  readonly riskyUdpPorts: readonly number[];
}

export function buildScanPlan(settings: ScanConfig, options: ScanPlanOptions): ScanPlan {
  return {
    targets: selectShard(settings.sweepTargets, settings.shard),
    boundary: settings.targets,
    shard: settings.shard,
    ports: expandPortsSetting(settings.ports, options),
    udpPorts: settings.udp && expandUdpPortsSetting(settings.udp.ports, options),
  };
}

/**
 * The known addresses a cycle scans, kept only where the plan allows: inside the targets and in this
 * replica's shard. Every address a known cycle hands nmap passes through here, so an inventory listing a
 * tenant's private address or another replica's address cannot widen the scan.
 */
export function buildKnownTargets(
  plan: Pick<ScanPlan, 'boundary' | 'shard'>,
  addresses: Iterable<string>,
): AddressListTargets {
  const kept: ParsedAddress[] = [];
  for (const text of addresses) {
    const address = parseAddress(text);
    if (!address || !setContains(plan.boundary, address.family, address.value)) continue;
    // The shard hashes the canonical text, as a sweep does, so both agree on which replica owns an address.
    const canonical = formatAddress(address.family, address.value);
    if (plan.shard.count > 1 && shardOfAddress(canonical, plan.shard.count) !== plan.shard.index) continue;
    kept.push(address);
  }
  return new AddressListTargets(kept);
}

/** `default` is nmap's top 1000 TCP ports and the risky ones, `all` is 1-65535; a port list is used as it is. */
export function expandPortsSetting(setting: string, options: Pick<ScanPlanOptions, 'riskyPorts'>): string {
  if (setting === 'all') return renderPortSpec(ALL_PORTS);
  if (setting !== 'default') return setting;
  const top = parsePortSpec(NMAP_TOP_1000_TCP);
  if (!top.ok) throw new Error(`the recorded nmap top ports are invalid: ${top.reason}`);
  return withPorts(top.ports, options.riskyPorts);
}

/** `default` is the amplifier list and the risky UDP ports; a port list is used as it is. */
export function expandUdpPortsSetting(setting: string, options: Pick<ScanPlanOptions, 'riskyUdpPorts'>): string {
  if (setting !== 'default') return setting;
  const list = parsePortSpec(DEFAULT_UDP_PORTS);
  if (!list.ok) throw new Error(`the default UDP ports are invalid: ${list.reason}`);
  return withPorts(list.ports, options.riskyUdpPorts);
}

function withPorts(intervals: readonly { first: number; last: number }[], ports: readonly number[]): string {
  return renderPortSpec(mergePortIntervals([...intervals, ...ports.map((port) => ({ first: port, last: port }))]));
}
