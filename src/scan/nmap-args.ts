/**
 * The nmap command line, built from validated data only. Every flag comes from this allow-list; targets go
 * to nmap on stdin (`-iL -`), so no text from a config file ever sits where nmap could read it as a flag.
 */
import type { NmapTuning } from '../config/schema.ts';
import type { IpFamily } from '../net/addresses.ts';
import type { ScanType, VersionDetection } from './types.ts';

/** How much the exporter may do with raw sockets, detected once at start. */
export type Privilege = 'root' | 'net_raw' | 'none';

export interface NmapInvocation {
  readonly family: IpFamily;
  readonly ports: string;
  readonly scanType: ScanType;
  readonly privilege: Privilege;
  readonly hostDiscovery: boolean;
  readonly tuning: NmapTuning;
  /** How often nmap reports progress; drives exposure_scan_progress_ratio. */
  readonly statsEveryMs: number;
  /** UDP only: label silent ports closed|filtered instead of waiting out the host's ICMP rate limit. */
  readonly defeatIcmpRateLimit?: boolean | undefined;
  readonly versionDetection?: VersionDetection | undefined;
}

/** `auto` is a SYN scan when raw sockets are allowed (faster, leaves no half-open logs), else a connect scan. */
export function resolveScanType(setting: 'auto' | ScanType, privilege: Privilege): ScanType {
  if (setting !== 'auto') return setting;
  return privilege === 'none' ? 'connect' : 'syn';
}

const SCAN_TYPE_FLAGS: Readonly<Record<ScanType, string>> = { syn: '-sS', connect: '-sT', udp: '-sU' };

export function buildNmapArgs(invocation: NmapInvocation): string[] {
  const { tuning, versionDetection } = invocation;
  return [
    ...(invocation.family === 6 ? ['-6'] : []),
    SCAN_TYPE_FLAGS[invocation.scanType],
    // nmap only trusts raw sockets without root when told so. The capability comes from systemd's
    // AmbientCapabilities (which the exporter sees), or from `setcap` on the nmap binary (which it cannot
    // see): so an explicit `scan_type: syn` without root asserts it, as the container image's config does.
    ...(invocation.scanType !== 'connect' && invocation.privilege !== 'root' ? ['--privileged'] : []),
    ...(invocation.scanType === 'udp' && invocation.defeatIcmpRateLimit ? ['--defeat-icmp-ratelimit'] : []),
    ...(versionDetection ? ['-sV', '--version-intensity', String(versionDetection.intensity)] : []),
    ...(versionDetection && versionDetection.scripts.length > 0
      ? ['--script', versionDetection.scripts.join(',')]
      : []),
    ...(invocation.hostDiscovery ? [] : ['-Pn']),
    '-n',
    // Without discovery nmap counts every address up: only the ports' answers (closed ones included) tell
    // an address that answered from a silent one, so --open, which hides them, goes with discovery.
    ...(invocation.hostDiscovery ? ['--open'] : []),
    '-p',
    invocation.ports,
    `-T${tuning.timingTemplate}`,
    '--max-rtt-timeout',
    `${tuning.maxRttTimeoutMs}ms`,
    '--max-retries',
    String(tuning.maxRetries),
    '--host-timeout',
    `${tuning.hostTimeoutMs}ms`,
    ...(tuning.minRate > 0 ? ['--min-rate', String(tuning.minRate)] : []),
    ...(tuning.maxRate > 0 ? ['--max-rate', String(tuning.maxRate)] : []),
    // Not --noninteractive: nmap 7.93 then stops writing <taskprogress>, and stdin is the target list, so
    // there is no keyboard to read anyway.
    '--stats-every',
    `${invocation.statsEveryMs}ms`,
    '-oX',
    '-',
    '-iL',
    '-',
  ];
}
