// What every cycle of one config scans. Building it enumerates nothing (the shard is a filter), so reloads are quick.
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
  /** This replica's share of the targets, minus the ranges too large to sweep. */
  readonly targets: ShardedTargets;
  /** Every target, swept or not: nothing outside it is ever scanned, known addresses included. */
  readonly boundary: TargetSet;
  readonly shard: Shard;
  readonly ports: string;
  /** undefined when the UDP pass is off. */
  readonly udpPorts: string | undefined;
}

export interface ScanPlanOptions {
  /** Added by `ports: default`; the caller passes them because the severity table belongs to classification. */
  readonly riskyPorts: readonly number[];
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

/** Every known address passes through here, so an inventory's private or other-shard address cannot widen the scan. */
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

export function expandPortsSetting(setting: string, options: Pick<ScanPlanOptions, 'riskyPorts'>): string {
  if (setting === 'all') return renderPortSpec(ALL_PORTS);
  if (setting !== 'default') return setting;
  const top = parsePortSpec(NMAP_TOP_1000_TCP);
  if (!top.ok) throw new Error(`the recorded nmap top ports are invalid: ${top.reason}`);
  return withPorts(top.ports, options.riskyPorts);
}

export function expandUdpPortsSetting(setting: string, options: Pick<ScanPlanOptions, 'riskyUdpPorts'>): string {
  if (setting !== 'default') return setting;
  const list = parsePortSpec(DEFAULT_UDP_PORTS);
  if (!list.ok) throw new Error(`the default UDP ports are invalid: ${list.reason}`);
  return withPorts(list.ports, options.riskyUdpPorts);
}

function withPorts(intervals: readonly { first: number; last: number }[], ports: readonly number[]): string {
  return renderPortSpec(mergePortIntervals([...intervals, ...ports.map((port) => ({ first: port, last: port }))]));
}
