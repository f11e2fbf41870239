/**
 * A 20,000-host report parses while nmap runs. Compares the exporter's NmapXmlStream, fed nmap's stdout in
 * 64 KiB chunks, with what a non-streaming exporter would do: collect the whole stdout, then parse it at once
 * (with the same parser, parseNmapXml). Both run in this one process on the same generated document
 * (bench/nmap-document.ts) and both keep the same result (the up hosts with their open ports), so the ratios
 * compare only streaming against reading the document whole.
 *
 * Run: npx node bench/nmap-xml.ts (re-runs itself with --expose-gc).
 */
import { StringDecoder } from 'node:string_decoder';
import { NmapXmlStream, parseNmapXml } from '../src/scan/nmap-xml.ts';
import type { NmapXmlEvent } from '../src/scan/nmap-xml.ts';
import type { ObservedHost } from '../src/scan/types.ts';
import {
  describeMachine,
  findMedian,
  formatCount,
  formatMiB,
  formatMs,
  formatRatio,
  measureRetainedHeap,
  printTable,
  readCpuMs,
  requireGc,
} from './measure.ts';
import { generateScan } from './nmap-document.ts';
import type { GeneratedScan } from './nmap-document.ts';

const HOST_COUNT = 20_000;
/** What a pipe typically hands node per read of a busy child's stdout. */
const CHUNK_BYTES = 64 * 1024;
const TIMED_RUNS = 5;
const SAMPLE_EVERY_BYTES = 1024 * 1024;

/** One way of turning stdout chunks into hosts; the bench feeds both the same chunks. */
interface HostReader {
  push(chunk: string): void;
  end(): void;
  /** Characters of stdout the reader holds on to between chunks. */
  readonly bufferedLength: number;
  /** performance.now() when the first host became available to the exporter. */
  readonly firstHostAt: number | undefined;
  readonly hosts: readonly ObservedHost[];
}

interface FeedResult {
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly firstHostMs: number;
  /** Bytes of stdout read before the first host was available. */
  readonly bytesBeforeFirstHost: number;
  readonly maxBufferedLength: number;
  readonly hosts: readonly ObservedHost[];
}

interface Timings {
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly firstHostMs: number;
}

interface VariantFigures extends Timings {
  readonly bytesBeforeFirstHost: number;
  readonly peakRetainedBytes: number;
  readonly maxBufferedLength: number;
}

/** The stream as nmap-scanner.ts drives it: each event as it comes, keeping up hosts that have open ports. */
class StreamingReader implements HostReader {
  readonly #stream = new NmapXmlStream();
  readonly hosts: ObservedHost[] = [];
  firstHostAt: number | undefined;

  get bufferedLength(): number {
    return this.#stream.bufferedLength;
  }

  push(chunk: string): void {
    this.#collect(this.#stream.push(chunk));
  }

  end(): void {
    this.#collect(this.#stream.end());
  }

  #collect(events: readonly NmapXmlEvent[]): void {
    for (const event of events) {
      if (event.kind !== 'host') continue;
      this.firstHostAt ??= performance.now();
      keepOpenPorts(event, this.hosts);
    }
  }
}

/** What nmap-scanner.ts keeps of a host event: an up host that has open ports, with just those. */
function keepOpenPorts(event: Extract<NmapXmlEvent, { kind: 'host' }>, into: ObservedHost[]): void {
  if (event.host.state !== 'up' || event.host.timedOut) return;
  const openPorts = event.host.ports
    .filter((port) => port.state === 'open')
    .map((port) => ({ port: port.port, protocol: port.protocol, service: port.service }));
  if (openPorts.length > 0) into.push({ ip: event.host.ip, openPorts });
}

/** The baseline: stdout collected whole (as execa's buffered result would hold it), parsed once nmap exits. */
class BufferedReader implements HostReader {
  readonly #chunks: string[] = [];
  readonly #probe: () => void;
  #bufferedLength = 0;
  #stdout: string | undefined;
  hosts: readonly ObservedHost[] = [];
  firstHostAt: number | undefined;

  /** `probe` samples the heap at the two moments inside end() that samples between reads cannot see. */
  constructor(probe: () => void) {
    this.#probe = probe;
  }

  get bufferedLength(): number {
    return this.#stdout?.length ?? this.#bufferedLength;
  }

  push(chunk: string): void {
    this.#chunks.push(chunk);
    this.#bufferedLength += chunk.length;
  }

  end(): void {
    // Held like execa's result.stdout, which lives until the code handling the scan returns.
    this.#stdout = this.#chunks.join('');
    this.#chunks.length = 0;
    this.#probe();
    const events = parseNmapXml(this.#stdout, { maxBufferedChars: this.#stdout.length });
    const hosts: ObservedHost[] = [];
    for (const event of events) {
      if (event.kind !== 'host') continue;
      this.firstHostAt ??= performance.now();
      keepOpenPorts(event, hosts);
    }
    this.#probe();
    this.hosts = hosts;
  }
}

/** Feeds the document in CHUNK_BYTES reads; `afterRead` gets the bytes read so far (the heap probe, or nothing). */
function feedDocument(document: Buffer, reader: HostReader, afterRead: (bytesRead: number) => void): FeedResult {
  const decoder = new StringDecoder('utf8');
  let maxBufferedLength = 0;
  let bytesBeforeFirstHost: number | undefined;
  const started = performance.now();
  const startedCpu = readCpuMs();
  for (let at = 0; at < document.length; at += CHUNK_BYTES) {
    reader.push(decoder.write(document.subarray(at, at + CHUNK_BYTES)));
    maxBufferedLength = Math.max(maxBufferedLength, reader.bufferedLength);
    if (bytesBeforeFirstHost === undefined && reader.firstHostAt !== undefined) {
      bytesBeforeFirstHost = Math.min(at + CHUNK_BYTES, document.length);
    }
    afterRead(Math.min(at + CHUNK_BYTES, document.length));
  }
  reader.push(decoder.end());
  reader.end();
  const finished = performance.now();
  const cpuMs = readCpuMs() - startedCpu;
  maxBufferedLength = Math.max(maxBufferedLength, reader.bufferedLength);
  if (reader.firstHostAt === undefined) throw new Error('no host was parsed');
  return {
    wallMs: finished - started,
    cpuMs,
    firstHostMs: reader.firstHostAt - started,
    bytesBeforeFirstHost: bytesBeforeFirstHost ?? document.length,
    maxBufferedLength,
    hosts: reader.hosts,
  };
}

/**
 * Peak heap after a full collection above the heap before the first read, sampled every SAMPLE_EVERY_BYTES of
 * stdout, inside the baseline's end() and after the end. What either reader retains only grows between samples
 * (the hosts so far, or the chunks so far), so sampling each 64 KiB read would find the same peak at many times
 * the cost of a full collection per read.
 */
function measurePeakRetained(
  gc: () => void,
  document: Buffer,
  createReader: (probe: () => void) => HostReader,
): { peakRetainedBytes: number; feed: FeedResult } {
  const start = measureRetainedHeap(gc);
  let peak = start;
  const sample = (): void => {
    peak = Math.max(peak, measureRetainedHeap(gc));
  };
  let nextSampleAt = SAMPLE_EVERY_BYTES;
  const sampleNowAndThen = (bytesRead: number): void => {
    if (bytesRead < nextSampleAt) return;
    nextSampleAt += SAMPLE_EVERY_BYTES;
    sample();
  };
  const feed = feedDocument(document, createReader(sample), sampleNowAndThen);
  sample();
  return { peakRetainedBytes: peak - start, feed };
}

/**
 * Median wall, CPU and first-host times; the variants alternate so drift in the machine hits both alike. The memory
 * runs before these have already brought both variants' code to its optimised state.
 */
function measureTimes(gc: () => void, document: Buffer, variants: readonly (() => HostReader)[]): Timings[] {
  const samples = variants.map(() => ({ wall: [] as number[], cpu: [] as number[], firstHost: [] as number[] }));
  const noProbe = (): void => {};
  for (let run = 0; run < TIMED_RUNS; run += 1) {
    const order = run % 2 === 0 ? variants.map((_, i) => i) : variants.map((_, i) => variants.length - 1 - i);
    for (const index of order) {
      gc();
      const feed = feedDocument(document, variants[index]!(), noProbe);
      samples[index]!.wall.push(feed.wallMs);
      samples[index]!.cpu.push(feed.cpuMs);
      samples[index]!.firstHost.push(feed.firstHostMs);
    }
  }
  return samples.map((sample) => ({
    wallMs: findMedian(sample.wall),
    cpuMs: findMedian(sample.cpu),
    firstHostMs: findMedian(sample.firstHost),
  }));
}

/** Both readers must find exactly the generated hosts and ports, or the comparison means nothing. */
function assertSameHosts(name: string, hosts: readonly ObservedHost[], scan: GeneratedScan): void {
  const openPorts = hosts.reduce((sum, host) => sum + host.openPorts.length, 0);
  if (hosts.length !== scan.hosts || openPorts !== scan.openPorts) {
    throw new Error(
      `${name} read ${hosts.length} hosts and ${openPorts} open ports, expected ${scan.hosts} and ${scan.openPorts}`,
    );
  }
}

function printFigures(scan: GeneratedScan, streaming: VariantFigures, baseline: VariantFigures): void {
  console.log(
    `nmap-xml: ${formatCount(scan.hosts)} hosts, ${formatCount(scan.openPorts)} open ports, ` +
      `${formatMiB(scan.document.length)} MiB of nmap 7.93 -oX output, ${CHUNK_BYTES / 1024} KiB chunks; ` +
      `times are medians of ${TIMED_RUNS} runs (${describeMachine()})`,
  );
  const row = (
    label: string,
    pick: (figures: VariantFigures) => number,
    format: (value: number) => string,
  ): string[] => [label, format(pick(streaming)), format(pick(baseline)), formatRatio(pick(streaming), pick(baseline))];
  printTable([
    ['', 'streaming', 'baseline', 'streaming/baseline'],
    row('wall time (ms)', (f) => f.wallMs, formatMs),
    row('CPU time, all threads (ms)', (f) => f.cpuMs, formatMs),
    row('time to first host (ms)', (f) => f.firstHostMs, formatMs),
    row(
      'stdout read before first host (KiB)',
      (f) => f.bytesBeforeFirstHost,
      (v) => (v / 1024).toFixed(0),
    ),
    row('peak retained heap above start (MiB)', (f) => f.peakRetainedBytes, formatMiB),
    row('largest bufferedLength (chars)', (f) => f.maxBufferedLength, formatCount),
  ]);
}

function runBench(gc: () => void): void {
  const scan = generateScan(HOST_COUNT);
  const createStreaming = (): HostReader => new StreamingReader();
  const createBuffered = (probe: () => void = () => {}): HostReader => new BufferedReader(probe);

  const streamingMemory = measurePeakRetained(gc, scan.document, createStreaming);
  assertSameHosts('the stream', streamingMemory.feed.hosts, scan);
  const baselineMemory = measurePeakRetained(gc, scan.document, createBuffered);
  assertSameHosts('the baseline', baselineMemory.feed.hosts, scan);

  const [streamingTimes, baselineTimes] = measureTimes(gc, scan.document, [createStreaming, () => createBuffered()]);
  if (streamingTimes === undefined || baselineTimes === undefined) throw new Error('missing timings');
  const combineFigures = (memory: { peakRetainedBytes: number; feed: FeedResult }, times: Timings): VariantFigures => ({
    ...times,
    bytesBeforeFirstHost: memory.feed.bytesBeforeFirstHost,
    peakRetainedBytes: memory.peakRetainedBytes,
    maxBufferedLength: memory.feed.maxBufferedLength,
  });
  printFigures(scan, combineFigures(streamingMemory, streamingTimes), combineFigures(baselineMemory, baselineTimes));
}

runBench(requireGc(import.meta.url));
