/**
 * The target that a 20,000-host nmap report parses while nmap runs (bench/README.md). Compares the exporter's
 * NmapXmlStream, fed nmap's stdout in 64 KiB chunks, with the baseline a non-streaming exporter would use: collect the
 * whole stdout, then parse it at once with fast-xml-parser's XMLParser. Both run in this one process on the same
 * generated document and both keep the same result (the up hosts with their open ports), so the ratios compare only how
 * the XML is read.
 *
 * Run: npx node bench/nmap-xml.ts (re-runs itself with --expose-gc).
 */
import { StringDecoder } from 'node:string_decoder';
import { XMLParser } from 'fast-xml-parser';
import { NmapXmlStream } from '../src/scan/nmap-xml.ts';
import type { NmapXmlEvent } from '../src/scan/nmap-xml.ts';
import type { Protocol } from '../src/net/port-spec.ts';
import type { ObservedHost, ObservedPort } from '../src/scan/types.ts';
import { createRandom } from '../test/support/random.ts';
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

const HOST_COUNT = 20_000;
/** What a pipe typically hands node per read of a busy child's stdout. */
const CHUNK_BYTES = 64 * 1024;
const TIMED_RUNS = 5;
const SAMPLE_EVERY_BYTES = 1024 * 1024;
/** nmap reports hosts a host group at a time; its SYN scan groups grow to a few hundred on large ranges. */
const HOST_GROUP = 128;
const SEED = 20_000;

/** The ports buildNmapArgs asks for by default on a small table, as nmap echoes them back in -p and <scaninfo>. */
const PORT_SPEC = '1-1024,2375,3306,5432,6379,8080,9200,11211,27017';
const SCANNED_PORTS = expandPortSpec(PORT_SPEC);

/** Open ports a cloud's VMs typically show, with nmap's service-table names. */
const OPEN_PORT_POOL: readonly { readonly port: number; readonly service: string }[] = [
  { port: 22, service: 'ssh' },
  { port: 25, service: 'smtp' },
  { port: 80, service: 'http' },
  { port: 443, service: 'https' },
  { port: 873, service: 'rsync' },
  { port: 2375, service: 'docker' },
  { port: 3306, service: 'mysql' },
  { port: 5432, service: 'postgresql' },
  { port: 6379, service: 'redis' },
  { port: 8080, service: 'http-proxy' },
  { port: 9200, service: 'wap-wsp' },
  { port: 11211, service: 'memcache' },
  { port: 27017, service: 'mongod' },
];

const STARTED_AT = 1_795_700_210;
/** The usable addresses of the /17 the scan covers. */
const ADDRESSES = 32_766;

interface GeneratedScan {
  /** As nmap's stdout arrives: bytes, decoded chunk by chunk like `setEncoding('utf8')` does in nmap-scanner.ts. */
  readonly document: Buffer;
  readonly hosts: number;
  readonly openPorts: number;
}

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
      if (event.host.state !== 'up' || event.host.timedOut) continue;
      const openPorts = event.host.ports
        .filter((port) => port.state === 'open')
        .map((port) => ({ port: port.port, protocol: port.protocol, service: port.service }));
      if (openPorts.length > 0) this.hosts.push({ ip: event.host.ip, openPorts });
    }
  }
}

/** Elements repeated under their parent, parsed as arrays even when single (as nmap-xml.ts does per element). */
const REPEATED_ELEMENTS = new Set(['host', 'hosthint', 'taskprogress', 'address', 'port', 'hostname', 'extraports', 'extrareasons']);

/** The stream's own parser settings, so the baseline differs only in reading the document whole. */
const wholeDocumentParser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  parseTagValue: false,
  parseAttributeValue: false,
  processEntities: false,
  isArray: (name, _path, _isLeaf, isAttribute) => !isAttribute && REPEATED_ELEMENTS.has(name),
});

type XmlNode = Readonly<Record<string, unknown>>;

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
    const tree = wholeDocumentParser.parse(this.#stdout) as XmlNode;
    const hostElements = readChildren(readChild(tree, 'nmaprun'), 'host');
    if (hostElements.length > 0) this.firstHostAt = performance.now();
    this.#probe();
    this.hosts = hostElements.flatMap(readObservedHost);
  }
}

function readChild(node: XmlNode | undefined, name: string): XmlNode | undefined {
  const value = node?.[name];
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as XmlNode) : undefined;
}

function readChildren(node: XmlNode | undefined, name: string): XmlNode[] {
  const value = node?.[name];
  return Array.isArray(value) ? (value as XmlNode[]) : [];
}

function readAttribute(node: XmlNode | undefined, name: string): string | undefined {
  const value = node?.[`@${name}`];
  return typeof value === 'string' ? value : undefined;
}

function readObservedHost(host: XmlNode): ObservedHost[] {
  if (readAttribute(readChild(host, 'status'), 'state') !== 'up' || readAttribute(host, 'timedout') === 'true') return [];
  const address = readChildren(host, 'address').find((node) => {
    const type = readAttribute(node, 'addrtype');
    return type === 'ipv4' || type === 'ipv6';
  });
  const ip = readAttribute(address, 'addr');
  const openPorts = readChildren(readChild(host, 'ports'), 'port').flatMap(readOpenPort);
  return ip === undefined || openPorts.length === 0 ? [] : [{ ip, openPorts }];
}

function readOpenPort(port: XmlNode): ObservedPort[] {
  const protocol = readAttribute(port, 'protocol');
  if (readAttribute(readChild(port, 'state'), 'state') !== 'open') return [];
  if (protocol !== 'tcp' && protocol !== 'udp' && protocol !== 'sctp') return [];
  return [
    {
      port: Number(readAttribute(port, 'portid')),
      protocol: protocol satisfies Protocol,
      service: readAttribute(readChild(port, 'service'), 'name') ?? '',
    },
  ];
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
function measureTimes(
  gc: () => void,
  document: Buffer,
  variants: readonly (() => HostReader)[],
): Timings[] {
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
    throw new Error(`${name} read ${hosts.length} hosts and ${openPorts} open ports, expected ${scan.hosts} and ${scan.openPorts}`);
  }
}

function generateScan(hostCount: number): GeneratedScan {
  const random = createRandom(SEED);
  const parts: string[] = [renderHeader()];
  let openPorts = 0;
  let time = STARTED_AT;
  for (let first = 0; first < hostCount; first += HOST_GROUP) {
    const group = Array.from({ length: Math.min(HOST_GROUP, hostCount - first) }, (_, i) => addressOf(first + i));
    // Host discovery reports the group's live hosts before their port scan starts.
    parts.push(...group.map(renderHostHint));
    time += 4 + random(8);
    parts.push(renderProgress('SYN Stealth Scan', time, random(10_000) / 100));
    for (const ip of group) {
      const ports = pickOpenPorts(random);
      openPorts += ports.length;
      parts.push(renderHost(ip, ports, time, random));
    }
  }
  parts.push(renderFooter(time, hostCount));
  return { document: Buffer.from(parts.join(''), 'utf8'), hosts: hostCount, openPorts };
}

/**
 * Spreads the hosts over 198.18.0.0/17 (RFC 2544's benchmarking range), as live VMs are spread over a floating-IP
 * range. Address lengths matter: V8 keeps a substring of 13 or more characters as a slice of the text it was cut
 * from, so long addresses keep their element's text alive and short private ones would hide that cost.
 */
function addressOf(index: number): string {
  const offset = 1 + Math.floor((index * (ADDRESSES - 1)) / HOST_COUNT);
  return `198.18.${offset >> 8}.${offset & 255}`;
}

function pickOpenPorts(random: (limit: number) => number): { port: number; service: string }[] {
  const count = 1 + random(4);
  const chosen = new Set<number>();
  while (chosen.size < count) chosen.add(random(OPEN_PORT_POOL.length));
  return [...chosen].sort((a, b) => a - b).map((index) => OPEN_PORT_POOL[index]!);
}

function renderHeader(): string {
  const args = `nmap -sS -n --open -p ${PORT_SPEC} -T4 -&#45;max-rtt-timeout 500ms -&#45;max-retries 2 -&#45;host-timeout 600000ms -&#45;stats-every 10000ms -oX - -iL -`;
  const when = formatNmapTime(STARTED_AT);
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE nmaprun>\n' +
    '<?xml-stylesheet href="file:///usr/bin/../share/nmap/nmap.xsl" type="text/xsl"?>\n' +
    `<!-- Nmap 7.93 scan initiated ${when} as: ${args} -->\n` +
    `<nmaprun scanner="nmap" args="${args}" start="${STARTED_AT}" startstr="${when}" version="7.93" xmloutputversion="1.05">\n` +
    `<scaninfo type="syn" protocol="tcp" numservices="${SCANNED_PORTS.length}" services="${PORT_SPEC}"/>\n` +
    '<verbose level="0"/>\n<debugging level="0"/>\n'
  );
}

function renderHostHint(ip: string): string {
  return (
    '<hosthint><status state="up" reason="echo-reply" reason_ttl="63"/>\n' +
    `<address addr="${ip}" addrtype="ipv4"/>\n<hostnames>\n</hostnames>\n</hosthint>\n`
  );
}

function renderProgress(task: string, time: number, percent: number): string {
  const remaining = Math.round((100 - percent) * 3);
  return `<taskprogress task="${task}" time="${time}" percent="${percent.toFixed(2)}" remaining="${remaining}" etc="${time + remaining}"/>\n`;
}

/** With --open nmap lists only the open ports and folds every other scanned port into <extraports>. */
function renderHost(
  ip: string,
  ports: readonly { port: number; service: string }[],
  time: number,
  random: (limit: number) => number,
): string {
  const closed = SCANNED_PORTS.length - ports.length;
  const portLines = ports.map(
    ({ port, service }) =>
      `<port protocol="tcp" portid="${port}"><state state="open" reason="syn-ack" reason_ttl="63"/>` +
      `<service name="${service}" method="table" conf="3"/></port>\n`,
  );
  const srtt = 200 + random(5_000);
  return (
    `<host starttime="${time - 3}" endtime="${time}"><status state="up" reason="echo-reply" reason_ttl="63"/>\n` +
    `<address addr="${ip}" addrtype="ipv4"/>\n<hostnames>\n</hostnames>\n` +
    `<ports><extraports state="closed" count="${closed}">\n` +
    `<extrareasons reason="reset" count="${closed}" proto="tcp" ports="${renderRanges(SCANNED_PORTS, ports)}"/>\n` +
    `</extraports>\n${portLines.join('')}</ports>\n` +
    `<times srtt="${srtt}" rttvar="${random(2_000)}" to="${100_000 + srtt * 4}"/>\n</host>\n`
  );
}

function renderFooter(time: number, hostsUp: number): string {
  const total = ADDRESSES;
  const elapsed = (time - STARTED_AT).toFixed(2);
  const when = formatNmapTime(time);
  return (
    `<runstats><finished time="${time}" timestr="${when}" summary="Nmap done at ${when}; ${total} IP addresses ` +
    `(${hostsUp} hosts up) scanned in ${elapsed} seconds" elapsed="${elapsed}" exit="success"/>` +
    `<hosts up="${hostsUp}" down="${total - hostsUp}" total="${total}"/>\n</runstats>\n</nmaprun>\n`
  );
}

/** nmap's ctime-style time: "Thu Nov 26 13:36:50 2026". */
function formatNmapTime(seconds: number): string {
  const [day, date, month, year, clock] = new Date(seconds * 1000).toUTCString().replace(',', '').split(' ');
  return `${day} ${month} ${date} ${clock} ${year}`;
}

function expandPortSpec(spec: string): number[] {
  return spec.split(',').flatMap((part) => {
    const [low, high] = part.split('-').map(Number);
    if (low === undefined) return [];
    return Array.from({ length: (high ?? low) - low + 1 }, (_, i) => low + i);
  });
}

/** The scanned ports other than `open`, as nmap's compact ranges ("1-21,23-79,81-1024,2375"). */
function renderRanges(scanned: readonly number[], open: readonly { port: number }[]): string {
  const skip = new Set(open.map(({ port }) => port));
  const ranges: string[] = [];
  let start: number | undefined;
  let previous = -2;
  for (const port of scanned) {
    if (skip.has(port)) continue;
    if (start !== undefined && port !== previous + 1) {
      ranges.push(start === previous ? `${start}` : `${start}-${previous}`);
      start = undefined;
    }
    start ??= port;
    previous = port;
  }
  if (start !== undefined) ranges.push(start === previous ? `${start}` : `${start}-${previous}`);
  return ranges.join(',');
}

function printFigures(scan: GeneratedScan, streaming: VariantFigures, baseline: VariantFigures): void {
  console.log(
    `nmap-xml: ${formatCount(scan.hosts)} hosts, ${formatCount(scan.openPorts)} open ports, ` +
      `${formatMiB(scan.document.length)} MiB of nmap 7.93 -oX output, ${CHUNK_BYTES / 1024} KiB chunks; ` +
      `times are medians of ${TIMED_RUNS} runs (${describeMachine()})`,
  );
  const row = (label: string, pick: (figures: VariantFigures) => number, format: (value: number) => string): string[] => [
    label,
    format(pick(streaming)),
    format(pick(baseline)),
    formatRatio(pick(streaming), pick(baseline)),
  ];
  printTable([
    ['', 'streaming', 'baseline', 'streaming/baseline'],
    row('wall time (ms)', (f) => f.wallMs, formatMs),
    row('CPU time, all threads (ms)', (f) => f.cpuMs, formatMs),
    row('time to first host (ms)', (f) => f.firstHostMs, formatMs),
    row('stdout read before first host (KiB)', (f) => f.bytesBeforeFirstHost, (v) => (v / 1024).toFixed(0)),
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
  const combineFigures = (
    memory: { peakRetainedBytes: number; feed: FeedResult },
    times: Timings,
  ): VariantFigures => ({
    ...times,
    bytesBeforeFirstHost: memory.feed.bytesBeforeFirstHost,
    peakRetainedBytes: memory.peakRetainedBytes,
    maxBufferedLength: memory.feed.maxBufferedLength,
  });
  printFigures(scan, combineFigures(streamingMemory, streamingTimes), combineFigures(baselineMemory, baselineTimes));
}

runBench(requireGc(import.meta.url));
