/** The data that crosses the scanner boundary: what to scan, and what nmap found. */
import type { NmapTuning } from '../config/schema.ts';
import type { Protocol } from '../net/port-spec.ts';
import type { ScanTargets } from '../targets/scan-targets.ts';

/** How nmap probes: a TCP SYN or connect scan, or the UDP scan (-sU), which always needs raw sockets. */
export type ScanType = 'syn' | 'connect' | 'udp';

/** What a verification pass asks of nmap besides the port scan: -sV, and the safe scripts to run. */
export interface VersionDetection {
  readonly intensity: number;
  readonly scripts: readonly string[];
}

export interface ScanJob {
  readonly nmapPath: string;
  readonly targets: ScanTargets;
  /** A validated nmap TCP port list such as "1-1024,3306,6379". */
  readonly ports: string;
  readonly scanType: 'auto' | ScanType;
  /**
   * false skips nmap's host discovery (-Pn): every address is port-scanned even if it answers no ping, and the
   * result names the addresses that answered no probe at all.
   */
  readonly hostDiscovery: boolean;
  readonly tuning: NmapTuning;
  /** The UDP pass only: nmap stops waiting out ports whose ICMP answers the host rate-limits. */
  readonly defeatIcmpRateLimit?: boolean | undefined;
  /** Set for a verification pass: the open ports are probed for what answers. */
  readonly versionDetection?: VersionDetection | undefined;
}

/** What nmap's service detection (-sV) found answering on a port. */
export interface DetectedService {
  /** nmap's service name for what answered ('' when no probe matched). */
  readonly name: string;
  readonly product: string;
  readonly version: string;
  /** A safe script got the service to answer without credentials. */
  readonly unauthenticated: boolean;
}

export interface ObservedPort {
  readonly port: number;
  readonly protocol: Protocol;
  /**
   * nmap's name for the port: from its services table (a guess by number, informative only), or what
   * answered once the port is verified.
   */
  readonly service: string;
  /** Set once a verification pass probed the port. */
  readonly detected?: DetectedService | undefined;
}

export interface ObservedHost {
  readonly ip: string;
  readonly openPorts: readonly ObservedPort[];
}

/** What of nmap's output was dropped instead of trusted (scan/output-checks.ts). */
export interface RejectedOutput {
  /** Host addresses that were not IP addresses of the run's family. */
  readonly notAnAddress: number;
  /** Host addresses outside what nmap was handed. */
  readonly outsideTargets: number;
  /** Service, product or version text that was not valid UTF-8. */
  readonly invalidText: number;
  /** The first few dropped addresses, quoted, for the log. */
  readonly examples: readonly string[];
}

export interface ScanResult {
  readonly startedAt: Date;
  readonly finishedAt: Date;
  readonly nmapVersion: string;
  /** The argument lists nmap ran with, one per address family scanned. */
  readonly nmapArgs: readonly (readonly string[])[];
  readonly targets: number;
  /** With host discovery, the hosts nmap found up; without, the addresses that answered any probe. */
  readonly hostsUp: number;
  /** Without host discovery: the addresses that answered no probe at all (everything dropped, or nothing there). */
  readonly silentHosts: readonly string[];
  /** Hosts that were up and had at least one open port. */
  readonly hosts: readonly ObservedHost[];
  /** Hosts nmap gave up on (host_timeout): their ports are unknown, not closed. */
  readonly timedOutHosts: readonly string[];
  /** Targets nmap could not scan at all (no route), which it otherwise reports as success. */
  readonly skippedTargets: number;
  readonly rejected: RejectedOutput;
}

export interface ScanOptions {
  readonly signal: AbortSignal;
  readonly onProgress?: (ratio: number) => void;
}

export interface Scanner {
  scan(job: ScanJob, options: ScanOptions): Promise<ScanResult>;
}
