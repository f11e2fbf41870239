/**
 * How long a sweep and a known cycle take at the configured rate: addresses × ports × tries / min_rate, the
 * pace at which nmap probes addresses that answer nothing (bench/firewall.ts measures it against nmap). Pure.
 */
import type { ScanConfig } from '../config/schema.ts';
import { formatDuration } from '../config/duration.ts';
import { countPortSpec } from '../net/port-spec.ts';

export interface ScanDurationInput {
  readonly scan: Pick<ScanConfig, 'hostDiscovery' | 'tuning' | 'udp' | 'timeoutMs' | 'sweepTimeoutMs'>;
  /** The expanded TCP and UDP port lists of the scan plan. */
  readonly tcpPorts: string;
  readonly udpPorts: string | undefined;
  /** The addresses one sweep covers (this replica's share). */
  readonly sweepAddresses: number;
  /** With an inventory, sweeps are bounded by sweep_timeout and the cycles between scan known addresses. */
  readonly withInventory: boolean;
}

export interface ScanDurationEstimate {
  /** Undefined without a floor (min_rate 0) or with host discovery, whose cost depends on what answers. */
  readonly sweepMs: number | undefined;
  /** What each known address that answers nothing adds to a known cycle; undefined without a floor. */
  readonly perSilentAddressMs: number | undefined;
  readonly rate: number;
  readonly ports: number;
  /** 0 when the UDP pass is off. */
  readonly udpPorts: number;
  /** The bound a sweep must fit: sweep_timeout with an inventory, else scan.timeout (every cycle sweeps). */
  readonly sweepBound: { readonly setting: string; readonly ms: number };
  /**
   * How long the silent addresses of one of nmap's host groups take together: each one's host_timeout runs
   * from its group's start, so past host_timeout nmap gives up on all of them.
   */
  readonly hostGroupMs: number | undefined;
  readonly hostGroupSize: number;
}

/** nmap 7.93's host group for a TCP scan: 1024 / ports addresses at once, at least 64 (its determineScanGroupSize). */
function countHostGroup(ports: number, addresses: number): number {
  return Math.min(addresses, Math.max(Math.floor(1024 / Math.max(ports, 1)), 64));
}

/**
 * nmap sends an unanswered probe again only up to one try past the highest try that ever got an answer, so
 * where nothing answers each probe goes twice with any max_retries above 0 (measured on nmap 7.93).
 */
export function countTries(maxRetries: number): number {
  return maxRetries > 0 ? 2 : 1;
}

export function estimateScanDuration(input: ScanDurationInput): ScanDurationEstimate {
  const { tuning } = input.scan;
  const rate = tuning.minRate;
  const tcpProbes = countPortSpec(input.tcpPorts) * countTries(tuning.maxRetries);
  const udpPorts = input.scan.udp && input.udpPorts ? countPortSpec(input.udpPorts) : 0;
  const udpProbes = input.scan.udp ? udpPorts * countTries(input.scan.udp.maxRetries) : 0;
  const perSilentAddressMs = rate > 0 ? ((tcpProbes + udpProbes) / rate) * 1000 : undefined;
  const sweepMs =
    perSilentAddressMs === undefined || input.scan.hostDiscovery
      ? undefined
      : perSilentAddressMs * input.sweepAddresses;
  const sweepBound = input.withInventory
    ? { setting: 'scan.sweep_timeout', ms: input.scan.sweepTimeoutMs }
    : { setting: 'scan.timeout', ms: input.scan.timeoutMs };
  const ports = countPortSpec(input.tcpPorts);
  const hostGroupSize = countHostGroup(ports, input.sweepAddresses);
  const hostGroupMs = rate > 0 ? ((hostGroupSize * tcpProbes) / rate) * 1000 : undefined;
  return { sweepMs, perSilentAddressMs, rate, ports, udpPorts, sweepBound, hostGroupMs, hostGroupSize };
}

/** The lines --config.check prints, the last a warning when a sweep cannot fit its bound. */
export function renderScanDuration(
  estimate: ScanDurationEstimate,
  input: Pick<ScanDurationInput, 'sweepAddresses' | 'scan'>,
): string[] {
  const { rate, ports, sweepBound } = estimate;
  if (estimate.perSilentAddressMs === undefined) {
    return [
      `scan durations: not predictable without scan.nmap.min_rate; nmap's own pacing on addresses that answer nothing is very slow`,
    ];
  }
  const pace = `${ports} TCP${estimate.udpPorts > 0 ? ` and ${estimate.udpPorts} UDP` : ''} ports at ${rate} packets/s`;
  const perAddress = formatSeconds(estimate.perSilentAddressMs);
  const fits = Math.floor(input.scan.timeoutMs / estimate.perSilentAddressMs);
  const lines = [
    estimate.sweepMs === undefined
      ? `sweep: ${input.sweepAddresses} addresses with host discovery first; each host found up costs about ${perAddress}`
      : `sweep: ${input.sweepAddresses} addresses × ${pace}: about ${formatSeconds(estimate.sweepMs)} (${sweepBound.setting} ${formatDuration(sweepBound.ms)})`,
    `known cycle: about ${perAddress} per known address that answers nothing; ${fits} such addresses fit scan.timeout (${formatDuration(input.scan.timeoutMs)})`,
  ];
  if (estimate.sweepMs !== undefined && estimate.sweepMs > sweepBound.ms) {
    lines.push(
      `warning: a sweep cannot finish within ${sweepBound.setting} (${formatDuration(sweepBound.ms)}) at ${rate} packets/s: ` +
        'raise scan.nmap.min_rate, scan fewer ports, shard the targets or raise the bound',
    );
  }
  if (estimate.hostGroupMs !== undefined && estimate.hostGroupMs > input.scan.tuning.hostTimeoutMs) {
    lines.push(
      `warning: nmap scans ${estimate.hostGroupSize} addresses at once, which take about ${formatSeconds(estimate.hostGroupMs)} at ${rate} packets/s ` +
        `when they answer nothing, longer than scan.nmap.host_timeout (${formatDuration(input.scan.tuning.hostTimeoutMs)}): ` +
        'it would give up on them; raise host_timeout or the rate, or scan fewer ports',
    );
  }
  return lines;
}

/** Whole seconds past a minute, tenths below one; never "0s" for a cost that is not nothing. */
function formatSeconds(ms: number): string {
  if (ms < 1000) return `${(ms / 1000).toFixed(2)}s`;
  return formatDuration(Math.round(ms / 1000) * 1000);
}
