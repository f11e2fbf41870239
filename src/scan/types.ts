/** The data that crosses the scanner boundary: what to scan, and what nmap found. */
import type { NmapTuning } from '../config/schema.ts';
import type { IpFamily } from '../net/addresses.ts';
import type { Protocol } from '../net/port-spec.ts';

export type ScanType = 'syn' | 'connect';

/**
 * The addresses one scan covers, read on demand: with sharding, counting or listing them hashes every
 * address, so nothing is enumerated until a cycle (or a scrape) asks.
 */
export interface ScanTargets {
  count(): number;
  countFamily(family: IpFamily): number;
  /** nmap's stdin lines for one family (CIDR blocks or single addresses), ascending, one at a time. */
  nmapTargets(family: IpFamily): Generator<string>;
}

export interface ScanJob {
  readonly nmapPath: string;
  readonly targets: ScanTargets;
  /** A validated nmap TCP port list such as "1-1024,3306,6379". */
  readonly ports: string;
  readonly scanType: 'auto' | ScanType;
  /** false skips nmap's host discovery (-Pn): every address is port-scanned even if it answers no ping. */
  readonly hostDiscovery: boolean;
  readonly tuning: NmapTuning;
}

export interface ObservedPort {
  readonly port: number;
  readonly protocol: Protocol;
  /** nmap's name from its services table; informative only, never used to classify. */
  readonly service: string;
}

export interface ObservedHost {
  readonly ip: string;
  readonly openPorts: readonly ObservedPort[];
}

export interface ScanResult {
  readonly startedAt: Date;
  readonly finishedAt: Date;
  readonly nmapVersion: string;
  /** The argument lists nmap ran with, one per address family scanned. */
  readonly nmapArgs: readonly (readonly string[])[];
  readonly targets: number;
  readonly hostsUp: number;
  /** Hosts that were up and had at least one open port. */
  readonly hosts: readonly ObservedHost[];
  /** Hosts nmap gave up on (host_timeout): their ports are unknown, not closed. */
  readonly timedOutHosts: readonly string[];
  /** Targets nmap could not scan at all (no route), which it otherwise reports as success. */
  readonly skippedTargets: number;
}

export interface ScanOptions {
  readonly signal: AbortSignal;
  readonly onProgress?: (ratio: number) => void;
}

export interface Scanner {
  scan(job: ScanJob, options: ScanOptions): Promise<ScanResult>;
}
