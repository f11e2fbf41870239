/**
 * The passes after a cycle's TCP scan: the UDP pass (nmap -sU, on its own interval) and verification (nmap -sV
 * on the open nonstandard ports). Each fails alone: the cycle keeps its TCP results and the pass its previous ones.
 */
import { ExporterError, describeError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { parseAddress } from '../net/addresses.ts';
import type { Protocol } from '../net/port-spec.ts';
import { AddressListTargets } from '../targets/address-list.ts';
import type { DetectedService, ObservedHost, ObservedPort, ScanJob, ScanResult, Scanner } from './types.ts';
import type { ScanTargets } from '../targets/scan-targets.ts';
import type { Clock } from '../clock.ts';
import type { Config } from '../config/schema.ts';
import type { ScanPlan } from '../targets/scan-plan.ts';

/** What the passes read of the exporter's config: the settings and the plan built from them. */
export interface PassConfig {
  readonly settings: Config;
  readonly plan: ScanPlan;
}

/** The addresses of the UDP pass, and whether they get host discovery (only the whole targets of a sweep may). */
export interface UdpTargets {
  readonly targets: ScanTargets;
  readonly hostDiscovery: boolean;
}

/** The passes besides the TCP scan, in the order metrics and the state file list them. */
export const PASS_NAMES = ['udp', 'verify'] as const;
export type PassName = (typeof PASS_NAMES)[number];

/** The last run of one pass: carried from snapshot to snapshot (and in the state file) until the next. */
export interface PassRun {
  /**
   * When the cycle the run belonged to started: the UDP interval is counted from cycle starts, which the
   * scheduler paces exactly, not from the run's own start, which the TCP scan's length moves.
   */
  readonly cycleStartedAt: Date;
  readonly startedAt: Date;
  readonly finishedAt: Date;
  readonly success: boolean;
  readonly error: { readonly code: string; readonly message: string } | null;
  /** When a run of this pass last succeeded: this one's end, or an earlier run's; null if none has. */
  readonly lastSuccessAt: Date | null;
  /** The addresses the UDP pass handed nmap, or the address:port pairs verification probed. */
  readonly scanned: number;
  readonly nmapArgs: readonly (readonly string[])[];
}

export type PassRuns = Readonly<Partial<Record<PassName, PassRun>>>;

/** The cycle a pass runs in: its start, and its signal (the cycle's deadline or shutdown). */
export interface CycleContext {
  readonly startedAt: Date;
  readonly signal: AbortSignal;
}

/** Where a run happens: its cycle, and the pass's previous run (from the previous snapshot). */
interface RunContext {
  readonly cycle: CycleContext;
  readonly last: PassRun | undefined;
}

export interface PassRunnerOptions {
  readonly scanner: Scanner;
  readonly clock: Clock;
  readonly log: Logger;
}

/** A pass that ran: its record, and what it found (only from a run that succeeded). */
export interface UdpOutcome {
  readonly run: PassRun;
  readonly result: ScanResult | undefined;
}

export interface VerifyOutcome {
  readonly run: PassRun;
  /** What answered, by portRefKey; only for the groups that finished. */
  readonly detections: ReadonlyMap<string, DetectedService>;
}

/** The ports verification probes: one address and one of its open ports. */
export interface VerifyPair {
  readonly ip: string;
  readonly port: number;
  readonly protocol: Protocol;
}

/**
 * Due when it never ran, when its last run failed (retried at the next cycle) or once the cycle starting now
 * starts scan.udp.interval or more after the cycle of the last run.
 */
export function isUdpPassDue(last: PassRun | undefined, cycleStartedAt: Date, intervalMs: number): boolean {
  return !last?.success || cycleStartedAt.getTime() - last.cycleStartedAt.getTime() >= intervalMs;
}

export function portRefKey(ip: string, port: number, protocol: Protocol): string {
  return `${ip} ${port}/${protocol}`;
}

export class PassRunner {
  readonly #options: PassRunnerOptions;

  constructor(options: PassRunnerOptions) {
    this.#options = options;
  }

  /** nmap -sU over the cycle's addresses. */
  async runUdp(
    config: PassConfig,
    { targets, hostDiscovery }: UdpTargets,
    cycle: CycleContext,
    last: PassRun | undefined,
  ): Promise<UdpOutcome> {
    const { signal } = cycle;
    const context = { cycle, last };
    const { scan } = config.settings;
    const udp = scan.udp;
    if (!udp || config.plan.udpPorts === undefined) throw new Error('the UDP pass ran without scan.udp');
    const job: ScanJob = {
      nmapPath: scan.nmapPath,
      targets,
      ports: config.plan.udpPorts,
      scanType: 'udp',
      hostDiscovery,
      tuning: { ...scan.tuning, maxRetries: udp.maxRetries },
      defeatIcmpRateLimit: udp.defeatIcmpRateLimit,
    };
    const startedAt = this.#options.clock.now();
    try {
      const result = await this.#options.scanner.scan(job, { signal });
      return {
        run: this.#record(context, startedAt, targets.count(), result.nmapArgs, null),
        result: keepProtocol(result, 'udp'),
      };
    } catch (err) {
      return { run: this.#fail('udp', context, startedAt, targets.count(), err), result: undefined };
    }
  }

  /**
   * nmap -sV on the given pairs only. nmap takes one port list for all its targets, so the pairs are grouped
   * by protocol and by each address's exact port set, one nmap run per group (VERIFY_RUNS_AT_ONCE at a time):
   * no address is probed on a port that is not open on it.
   */
  async runVerify(
    config: PassConfig,
    pairs: readonly VerifyPair[],
    cycle: CycleContext,
    last: PassRun | undefined,
  ): Promise<VerifyOutcome> {
    const { signal } = cycle;
    const context = { cycle, last };
    const startedAt = this.#options.clock.now();
    const detections = new Map<string, DetectedService>();
    const nmapArgs: (readonly string[])[] = [];
    const groups = groupPairs(pairs);
    let next = 0;
    let failure: { err: unknown } | undefined;
    // A few groups at once: -sV spends most of its time waiting out probes, not sending them.
    const worker = async (): Promise<void> => {
      while (next < groups.length && !failure) {
        const group = groups[next++]!;
        try {
          const result = await this.#options.scanner.scan(buildVerifyJob(config, group), { signal });
          nmapArgs.push(...result.nmapArgs);
          collectDetections(result, group, detections);
        } catch (err) {
          failure ??= { err };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(VERIFY_RUNS_AT_ONCE, groups.length) }, worker));
    if (failure)
      return { run: this.#fail('verify', context, startedAt, pairs.length, failure.err, nmapArgs), detections };
    return { run: this.#record(context, startedAt, pairs.length, nmapArgs, null), detections };
  }

  #record(
    context: RunContext,
    startedAt: Date,
    scanned: number,
    nmapArgs: readonly (readonly string[])[],
    error: PassRun['error'],
  ): PassRun {
    const finishedAt = this.#options.clock.now();
    const success = error === null;
    const lastSuccessAt = success ? finishedAt : (context.last?.lastSuccessAt ?? null);
    return {
      cycleStartedAt: context.cycle.startedAt,
      startedAt,
      finishedAt,
      success,
      error,
      lastSuccessAt,
      scanned,
      nmapArgs,
    };
  }

  /** A stopped cycle stops here too; any other failure is this pass's alone. */
  #fail(
    pass: PassName,
    context: RunContext,
    startedAt: Date,
    scanned: number,
    err: unknown,
    nmapArgs: readonly (readonly string[])[] = [],
  ): PassRun {
    if (context.cycle.signal.aborted) throw err;
    const error =
      err instanceof ExporterError
        ? { code: err.code, message: err.message }
        : { code: 'INTERNAL', message: describeError(err) };
    this.#options.log.error(`${pass === 'udp' ? 'UDP' : 'verification'} pass failed; keeping its previous results`, {
      pass,
      err,
    });
    return this.#record(context, startedAt, scanned, nmapArgs, error);
  }
}

/** How many verification runs (one per group of pairs) go at once. */
const VERIFY_RUNS_AT_ONCE = 4;

function buildVerifyJob(config: PassConfig, group: PairGroup): ScanJob {
  const { scan } = config.settings;
  return {
    nmapPath: scan.nmapPath,
    targets: new AddressListTargets(
      group.addresses.map((ip) => parseAddress(ip)).filter((address) => address !== undefined),
    ),
    ports: group.ports,
    scanType: group.protocol === 'udp' ? 'udp' : scan.scanType,
    // The addresses answered the port scan a moment ago: host discovery would only cost time.
    hostDiscovery: false,
    tuning: scan.tuning,
    versionDetection: { intensity: scan.verify.versionIntensity, scripts: scan.verify.scripts },
  };
}

/** Only what the pass asked about: a wrong nmap (or a fake one) must not slip TCP ports in as UDP results. */
function keepProtocol(result: ScanResult, protocol: Protocol): ScanResult {
  const hosts = result.hosts
    .map((host) => ({ ip: host.ip, openPorts: host.openPorts.filter((port) => port.protocol === protocol) }))
    .filter((host) => host.openPorts.length > 0);
  return { ...result, hosts };
}

interface PairGroup {
  readonly protocol: Protocol;
  /** The nmap port list every address of the group has open, ascending. */
  readonly ports: string;
  readonly addresses: readonly string[];
}

export function groupPairs(pairs: readonly VerifyPair[]): PairGroup[] {
  const portsByAddress = new Map<string, { protocol: Protocol; ip: string; ports: Set<number> }>();
  for (const pair of pairs) {
    const key = `${pair.protocol} ${pair.ip}`;
    const entry = portsByAddress.get(key) ?? { protocol: pair.protocol, ip: pair.ip, ports: new Set<number>() };
    entry.ports.add(pair.port);
    portsByAddress.set(key, entry);
  }
  const groups = new Map<string, { protocol: Protocol; ports: string; addresses: string[] }>();
  for (const entry of portsByAddress.values()) {
    const ports = [...entry.ports].sort((a, b) => a - b).join(',');
    const key = `${entry.protocol} ${ports}`;
    const group = groups.get(key) ?? { protocol: entry.protocol, ports, addresses: [] };
    group.addresses.push(entry.ip);
    groups.set(key, group);
  }
  return [...groups.values()].sort((a, b) => a.protocol.localeCompare(b.protocol) || a.ports.localeCompare(b.ports));
}

/** The group's own pairs only: whatever else nmap printed was not asked for. */
function collectDetections(result: ScanResult, group: PairGroup, into: Map<string, DetectedService>): void {
  const wanted = new Set(group.ports.split(',').map(Number));
  const addresses = new Set(group.addresses);
  for (const host of result.hosts) {
    if (!addresses.has(host.ip)) continue;
    for (const port of host.openPorts) {
      if (port.protocol !== group.protocol || !wanted.has(port.port) || !port.detected) continue;
      into.set(portRefKey(host.ip, port.port, port.protocol), port.detected);
    }
  }
}

/**
 * One host per address, its ports from every list: the TCP scan's, the UDP pass's and what earlier passes
 * left. The first list wins where two name the same port.
 */
export function mergeHosts(...lists: readonly (readonly ObservedHost[])[]): ObservedHost[] {
  const merged = new Map<string, ObservedPort[]>();
  for (const host of lists.flat()) {
    const ports = merged.get(host.ip) ?? [];
    for (const port of host.openPorts) {
      if (!ports.some((known) => known.port === port.port && known.protocol === port.protocol)) ports.push(port);
    }
    merged.set(host.ip, ports);
  }
  return [...merged].map(([ip, openPorts]) => ({ ip, openPorts }));
}
