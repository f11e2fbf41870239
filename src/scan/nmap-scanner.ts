/**
 * The one place that runs nmap. Spawns it without a shell, feeds targets on stdin, parses its XML from
 * stdout while it runs, and kills it when the cycle's signal aborts (timeout or shutdown). execa's errors
 * end here: callers only ever see an ExporterError.
 */
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { execa } from 'execa';
import type { Readable } from 'node:stream';
import { ExporterError } from '../errors.ts';
import { buildNmapArgs, resolveScanType } from './nmap-args.ts';
import type { Privilege } from './nmap-args.ts';
import { NmapXmlStream } from './nmap-xml.ts';
import { killProcessGroup, superviseProcessGroup } from './process-group.ts';
import type { GroupSupervision } from './process-group.ts';
import { NOTHING_REJECTED, OutputChecks, addRejections } from './output-checks.ts';
import { countPortSpec } from '../net/port-spec.ts';
import type { NmapHost, NmapPort, NmapXmlEvent } from './nmap-xml.ts';
import { answeredWithoutCredentials } from './script-verdicts.ts';
import type { IpFamily } from '../net/addresses.ts';
import type { ObservedHost, ObservedPort, RejectedOutput, ScanJob, ScanOptions, ScanResult, Scanner } from './types.ts';

export interface NmapScannerOptions {
  readonly privilege: Privilege;
  /** How often nmap reports progress. */
  readonly statsEveryMs?: number;
  /** Between SIGTERM and SIGKILL when a scan is cancelled. */
  readonly killGraceMs?: number;
}

const STDERR_TAIL_CHARS = 2048;
/** How long `nmap --version` may take, and the grace before its group is killed. */
const PROBE_TIMEOUT_MS = 10_000;
const PROBE_GRACE_MS = 1000;
/** Target lines per stdin write: one write per line would cost more than the hashing behind them. */
const TARGET_LINES_PER_CHUNK = 4096;

export class NmapScanner implements Scanner {
  readonly #privilege: Privilege;
  readonly #statsEveryMs: number;
  readonly #killGraceMs: number;

  constructor(options: NmapScannerOptions) {
    this.#privilege = options.privilege;
    this.#statsEveryMs = options.statsEveryMs ?? 5000;
    this.#killGraceMs = options.killGraceMs ?? 2000;
  }

  async scan(job: ScanJob, options: ScanOptions): Promise<ScanResult> {
    const startedAt = new Date();
    if (job.scanType === 'udp' && this.#privilege === 'none') {
      throw new ExporterError(
        'NMAP_NO_PRIVILEGE',
        'the UDP pass needs raw sockets (root or CAP_NET_RAW), which the exporter does not have; set scan.udp.ports: none to turn it off',
      );
    }
    // nmap cannot mix IPv4 and IPv6 targets in one run, so each family gets its own.
    const families = ([4, 6] as const).filter((family) => job.targets.countFamily(family) > 0);
    const hosts: ObservedHost[] = [];
    const timedOutHosts: string[] = [];
    const silentHosts: string[] = [];
    let rejected = NOTHING_REJECTED;
    let skippedTargets = 0;
    const nmapArgs: string[][] = [];
    let hostsUp = 0;
    let nmapVersion = '';
    let done = 0;
    for (const family of families) {
      const share = job.targets.countFamily(family) / Math.max(job.targets.count(), 1);
      const base = done;
      const run = await this.#scanFamily(job, family, {
        signal: options.signal,
        onProgress: (ratio) => options.onProgress?.(base + share * ratio),
      });
      done += share;
      hosts.push(...run.hosts);
      timedOutHosts.push(...run.timedOutHosts);
      silentHosts.push(...run.silentHosts);
      rejected = addRejections(rejected, run.rejected);
      skippedTargets += run.skippedTargets;
      nmapArgs.push(run.args);
      hostsUp += run.hostsUp;
      nmapVersion ||= run.version;
    }
    return {
      startedAt,
      finishedAt: new Date(),
      nmapVersion,
      nmapArgs,
      targets: job.targets.count(),
      hostsUp,
      silentHosts,
      hosts,
      timedOutHosts,
      skippedTargets,
      rejected,
    };
  }

  async #scanFamily(job: ScanJob, family: IpFamily, options: ScanOptions): Promise<FamilyRun> {
    const args = buildNmapArgs({
      family,
      ports: job.ports,
      scanType: resolveScanType(job.scanType, this.#privilege),
      privilege: this.#privilege,
      hostDiscovery: job.hostDiscovery,
      tuning: job.tuning,
      statsEveryMs: this.#statsEveryMs,
      defeatIcmpRateLimit: job.defeatIcmpRateLimit,
      versionDetection: job.versionDetection,
    });
    options.signal.throwIfAborted();
    const subprocess = execa(job.nmapPath, args, {
      // Streamed: a sharded target list is produced while nmap reads it, never held whole in memory.
      stdin: chunkLines(job.targets.nmapTargets(family)),
      // A group of its own: at the deadline or shutdown a wrapper's children end with it (process-group.ts).
      detached: true,
      buffer: false,
      reject: false,
      stripFinalNewline: false,
      encoding: 'utf8',
    });
    // The exit itself, not execa's promise, which also waits for the pipes that a wrapper's child may hold open.
    const exited = once(subprocess.nodeChildProcess, 'exit');
    const group = superviseProcessGroup(subprocess, exited, { signal: options.signal, graceMs: this.#killGraceMs });
    try {
      return await readRun({ job, args, family, subprocess, group }, options);
    } finally {
      group.dispose();
    }
  }
}

interface RunningNmap {
  readonly job: ScanJob;
  readonly args: string[];
  readonly family: IpFamily;
  readonly subprocess: NmapSubprocess;
  readonly group: GroupSupervision;
}

async function readRun(
  { job, args, family, subprocess, group }: RunningNmap,
  options: ScanOptions,
): Promise<FamilyRun> {
  const checks = new OutputChecks({
    family,
    hosts: job.targets.countFamily(family),
    portsPerHost: countPortSpec(job.ports),
    isTarget: (ip) => job.targets.contains(ip),
  });
  const stderr = collectTail(subprocess.stderr);
  const parsed: ParsedRun = {
    hosts: [],
    timedOutHosts: [],
    silentHosts: [],
    hostsUp: 0,
    version: '',
    progress: 0,
    finished: undefined,
  };
  let parseError: unknown;
  let outputEnded = false;
  let stoppedForOutput = false;
  try {
    const stream = new NmapXmlStream();
    subprocess.stdout.setEncoding('utf8');
    for await (const chunk of subprocess.stdout as AsyncIterable<string>) {
      applyEvents(stream.push(chunk), parsed, options, { job, checks });
    }
    outputEnded = true;
    applyEvents(stream.end(), parsed, options, { job, checks });
  } catch (err) {
    parseError = err;
    // Output we cannot read makes the whole run worthless; stop nmap instead of letting it scan on. Output
    // that merely ended early was ended by nmap itself: there is nothing left to stop.
    if (!outputEnded) {
      group.end();
      stoppedForOutput = true;
    }
  }
  const result = await subprocess;
  throwIfNotRun(job, result, options.signal);
  // When we stopped nmap for unreadable output, that output is the story; when nmap failed on its own
  // (an exit code, or a signal we did not send, such as the OOM killer's), its exit and stderr say more
  // than the half-written XML does.
  if (parseError && (result.exitCode === 0 || stoppedForOutput)) throw parseError;
  if (result.failed) throw describeExitFailure(result, stderr.text());
  if (parseError) throw parseError;
  if (parsed.finished?.exit === 'error') {
    throw new ExporterError('NMAP_FAILED', `nmap reported an error: ${parsed.finished.errorMessage ?? 'no message'}`);
  }
  return {
    args,
    hosts: parsed.hosts,
    timedOutHosts: parsed.timedOutHosts,
    silentHosts: parsed.silentHosts,
    // With -Pn nmap's own count is every address; the hosts that answered are counted while parsing.
    hostsUp: job.hostDiscovery ? (parsed.finished?.hostsUp ?? parsed.hostsUp) : parsed.hostsUp,
    skippedTargets: parsed.finished?.targetsSkipped ?? 0,
    version: parsed.version,
    rejected: checks.result(),
  };
}

type FinishedEvent = Extract<NmapXmlEvent, { kind: 'finished' }>;
/** What readRun needs of the run; execa's own type names every option, so this is the part it reads. */
type NmapSubprocess = { readonly stdout: Readable; readonly stderr: Readable } & PromiseLike<SubprocessOutcome>;

interface ParsedRun {
  hosts: ObservedHost[];
  timedOutHosts: string[];
  silentHosts: string[];
  hostsUp: number;
  version: string;
  progress: number;
  finished: FinishedEvent | undefined;
}

interface FamilyRun {
  readonly args: string[];
  readonly hosts: ObservedHost[];
  readonly timedOutHosts: string[];
  readonly silentHosts: string[];
  readonly hostsUp: number;
  readonly skippedTargets: number;
  readonly version: string;
  readonly rejected: RejectedOutput;
}

function applyEvents(
  events: readonly NmapXmlEvent[],
  into: ParsedRun,
  options: ScanOptions,
  { job, checks }: { job: Pick<ScanJob, 'versionDetection' | 'hostDiscovery'>; checks: OutputChecks },
): void {
  for (const event of events) {
    if (event.kind === 'run') into.version = event.version;
    else if (event.kind === 'progress') {
      into.progress = Math.max(into.progress, estimateProgress(event.task, event.percent));
      options.onProgress?.(into.progress);
    } else if (event.kind === 'finished') into.finished = event;
    else {
      const ip = checks.admitHost(event.host);
      if (ip === undefined) continue;
      if (event.host.timedOut) into.timedOutHosts.push(ip);
      else if (event.host.state === 'up') applyUpHost(event.host, ip, into, { job, checks });
    }
  }
}

function applyUpHost(
  host: NmapHost,
  ip: string,
  into: ParsedRun,
  { job, checks }: { job: Pick<ScanJob, 'versionDetection' | 'hostDiscovery'>; checks: OutputChecks },
): void {
  if (!job.hostDiscovery && !host.answered) {
    into.silentHosts.push(ip);
    return;
  }
  into.hostsUp += 1;
  // `open` only: a UDP port nmap heard nothing from is `open|filtered`, which proves nothing is there.
  const openPorts = host.ports
    .filter((port) => port.state === 'open')
    .map((port) => {
      const service = checks.cleanText(port.service);
      return job.versionDetection
        ? withDetection(port, service, checks)
        : { port: port.port, protocol: port.protocol, service };
    });
  if (openPorts.length > 0) into.hosts.push({ ip, openPorts });
}

/** A verified port: what -sV found, and whether a safe script got in without credentials. */
function withDetection(port: NmapPort, service: string, checks: OutputChecks): ObservedPort {
  const detected = {
    name: service,
    product: checks.cleanText(port.product),
    version: checks.cleanText(port.version),
    unauthenticated: answeredWithoutCredentials(port.scripts),
  };
  return { port: port.port, protocol: port.protocol, service, detected };
}

/**
 * nmap reports a percentage per task, and the tasks restart for every host group. Host discovery is quick
 * next to the port scan, so it fills the first tenth; the caller keeps the maximum so the ratio never goes
 * backwards when the next group starts.
 */
function estimateProgress(task: string, percent: number): number {
  const ratio = Math.min(Math.max(percent / 100, 0), 1);
  return /ping/i.test(task) ? 0.1 * ratio : 0.1 + 0.9 * ratio;
}

/** Lines joined into chunks of TARGET_LINES_PER_CHUNK, each ending in a newline. */
function* chunkLines(lines: Iterable<string>): Generator<string> {
  let chunk: string[] = [];
  for (const line of lines) {
    chunk.push(line);
    if (chunk.length === TARGET_LINES_PER_CHUNK) {
      yield `${chunk.join('\n')}\n`;
      chunk = [];
    }
  }
  if (chunk.length > 0) yield `${chunk.join('\n')}\n`;
}

/** Keeps the end of nmap's stderr: enough to explain a failure, never the whole output. */
function collectTail(stderr: NodeJS.ReadableStream): { text: () => string } {
  let tail = '';
  stderr.setEncoding('utf8');
  stderr.on('data', (chunk: string) => {
    tail = (tail + chunk).slice(-STDERR_TAIL_CHARS);
  });
  return { text: () => tail.trim() };
}

interface SubprocessOutcome {
  readonly exitCode?: number | undefined;
  readonly signal?: string | undefined;
  readonly code?: string | undefined;
  readonly failed: boolean;
}

/** Throws when nmap never ran to an end of its own: cancelled (timeout or shutdown), or not startable. */
function throwIfNotRun(job: ScanJob, result: SubprocessOutcome, signal: AbortSignal): void {
  // nmap's group is ended by the signal (process-group.ts), not by execa, so the signal alone says so.
  if (signal.aborted) {
    const timedOut = (signal.reason as Error | undefined)?.name === 'TimeoutError';
    throw timedOut
      ? new ExporterError('NMAP_TIMEOUT', 'nmap did not finish within scan.timeout and was stopped')
      : new ExporterError('NMAP_ABORTED', 'the scan was stopped before nmap finished');
  }
  if (result.code === 'ENOENT') {
    throw new ExporterError('NMAP_NOT_FOUND', `nmap was not found at ${JSON.stringify(job.nmapPath)} (scan.nmap.path)`);
  }
  if (result.code === 'EACCES') {
    throw new ExporterError(
      'NMAP_NOT_FOUND',
      `nmap at ${JSON.stringify(job.nmapPath)} is not executable (scan.nmap.path)`,
    );
  }
}

function describeExitFailure(result: SubprocessOutcome, stderr: string): ExporterError {
  const how = result.signal ? `was killed by ${result.signal}` : `exited with code ${result.exitCode ?? 'unknown'}`;
  const detail = lastLines(stderr);
  return new ExporterError('NMAP_FAILED', `nmap ${how}${detail ? `: ${detail}` : ''}`);
}

function lastLines(text: string): string {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .slice(-3)
    .join(' / ');
}

/** nmap's version, for exposure_build_info; "unknown" when nmap cannot tell, which must not stop the exporter. */
export async function probeNmapVersion(nmapPath: string, options: { signal: AbortSignal }): Promise<string> {
  const subprocess = execa(nmapPath, ['--version'], { detached: true, reject: false });
  const signal = AbortSignal.any([options.signal, AbortSignal.timeout(PROBE_TIMEOUT_MS)]);
  const group = superviseProcessGroup(subprocess, once(subprocess.nodeChildProcess, 'exit'), {
    signal,
    graceMs: PROBE_GRACE_MS,
  });
  try {
    const result = await subprocess;
    const match = /Nmap version (\S+)/.exec(typeof result.stdout === 'string' ? result.stdout : '');
    return match?.[1] ?? 'unknown';
  } finally {
    group.dispose();
  }
}

/**
 * nmap's own /proc status, read while it waits for targets on stdin: the kernel has granted its capabilities
 * at exec (root, ambient, or a file capability), and with no targets it scans nothing. The process is killed
 * at once after the read. undefined when nmap could not be started or read.
 */
export async function probeNmapProcStatus(
  nmapPath: string,
  options: { signal: AbortSignal },
): Promise<string | undefined> {
  const subprocess = execa(nmapPath, ['-n', '-sn', '-iL', '-'], {
    cancelSignal: options.signal,
    // Its group is killed below: a wrapper's nmap would otherwise wait for targets forever.
    detached: true,
    reject: false,
    stdin: 'pipe',
    stdout: 'ignore',
    stderr: 'ignore',
  });
  try {
    // libuv reports a failed exec synchronously, so a pid means nmap itself is running now.
    if (subprocess.pid === undefined) return undefined;
    return await readFile(`/proc/${subprocess.pid}/status`, 'utf8');
  } catch {
    return undefined;
  } finally {
    if (subprocess.pid !== undefined) killProcessGroup(subprocess.pid, 'SIGKILL');
    await subprocess;
  }
}
