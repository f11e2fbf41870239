/**
 * What every cycle of one config scans: this replica's share of the targets and the nmap port list, built
 * from the scan settings at each config load. Building a plan enumerates nothing (the shard is a filter,
 * see shard.ts), so a reload with a large target list is as quick as one with a small list.
 */
import type { ScanConfig } from '../config/schema.ts';
import { ALL_PORTS, mergePortIntervals, parsePortSpec, renderPortSpec } from '../net/port-spec.ts';
import { NMAP_TOP_1000_TCP } from './nmap-top-ports.ts';
import { selectShard } from './shard.ts';
import type { ShardedTargets } from './shard.ts';

export interface ScanPlan {
  /** This replica's targets: the settings' targets, filtered to its shard. */
  readonly targets: ShardedTargets;
  /** The nmap TCP port list, keywords expanded. */
  readonly ports: string;
}

export interface ScanPlanOptions {
  /**
   * TCP ports that `ports: default` adds to nmap's top 1000: the ports of the severity table, which the
   * caller passes because the table belongs to classification, not to scanning.
   */
  readonly riskyPorts: readonly number[];
}

export function buildScanPlan(settings: ScanConfig, options: ScanPlanOptions): ScanPlan {
  return { targets: selectShard(settings.targets, settings.shard), ports: expandPortsSetting(settings.ports, options) };
}

/** `default` is nmap's top 1000 TCP ports and the risky ones, `all` is 1-65535; a port list is used as it is. */
export function expandPortsSetting(setting: string, options: ScanPlanOptions): string {
  if (setting === 'all') return renderPortSpec(ALL_PORTS);
  if (setting !== 'default') return setting;
  const top = parsePortSpec(NMAP_TOP_1000_TCP);
  if (!top.ok) throw new Error(`the recorded nmap top ports are invalid: ${top.reason}`);
  const risky = options.riskyPorts.map((port) => ({ first: port, last: port }));
  return renderPortSpec(mergePortIntervals([...top.ports, ...risky]));
}
