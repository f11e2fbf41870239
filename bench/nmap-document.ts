/**
 * A generated nmap 7.93 `-oX -` report of a large scan, for the benches that time the parser and the whole
 * exporter. Its shape follows a real recording (test/fixtures/nmap/top-ports.xml): the scan is the one the
 * exporter asks for by default (`-sS -n --open` over nmap's top 1,000 TCP ports plus the severity table's), and
 * every up host folds its closed ports into one `<extrareasons ports="…">` list. The top ports are scattered
 * ("1,3-4,6-7,9,13,…"), so that list is about 3.9 KB per host and most of the document: 20,000 hosts make about
 * 89 MB, which is what a real scan of that size writes.
 */
import { defaultConfig } from '../src/config/schema.ts';
import { buildExporterConfig } from '../src/state/exporter-config.ts';
import { buildNmapArgs } from '../src/scan/nmap-args.ts';
import { createRandom } from '../test/support/random.ts';

export interface GeneratedScan {
  /** nmap's stdout as bytes. */
  readonly document: Buffer;
  /** Up hosts; every one has at least one open port. */
  readonly hosts: number;
  readonly openPorts: number;
  /** The CIDR the hosts are spread over, for a config's scan.targets. */
  readonly targetCidr: string;
}

/** 198.18.0.0/15 is RFC 2544's benchmarking range; the scan covers its first /17. */
export const TARGET_CIDR = '198.18.0.0/17';
/** The usable addresses of TARGET_CIDR. */
const ADDRESSES = 32_766;
/** nmap reports hosts a host group at a time; its SYN scan groups grow to a few hundred on large ranges. */
const HOST_GROUP = 128;
const SEED = 20_000;
const STARTED_AT = 1_795_700_210;

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

export function generateScan(hostCount: number): GeneratedScan {
  if (hostCount > ADDRESSES) throw new Error(`at most ${ADDRESSES} hosts fit in ${TARGET_CIDR}`);
  // The plan's list, with `ports: default` expanded: the setting itself is only the keyword.
  const portSpec = buildExporterConfig(defaultConfig()).plan.ports;
  const scannedPorts = expandPortSpec(portSpec);
  const random = createRandom(SEED);
  const parts: string[] = [renderHeader(portSpec, scannedPorts.length)];
  let openPorts = 0;
  let time = STARTED_AT;
  for (let first = 0; first < hostCount; first += HOST_GROUP) {
    const group = Array.from({ length: Math.min(HOST_GROUP, hostCount - first) }, (_, i) =>
      addressOf(first + i, hostCount),
    );
    // Host discovery reports the group's live hosts before their port scan starts.
    parts.push(...group.map(renderHostHint));
    time += 4 + random(8);
    parts.push(renderProgress('SYN Stealth Scan', time, random(10_000) / 100));
    for (const ip of group) {
      const ports = pickOpenPorts(random);
      openPorts += ports.length;
      parts.push(renderHost(ip, ports, scannedPorts, time, random));
    }
  }
  parts.push(renderFooter(time, hostCount));
  return { document: Buffer.from(parts.join(''), 'utf8'), hosts: hostCount, openPorts, targetCidr: TARGET_CIDR };
}

/**
 * Spreads the hosts over TARGET_CIDR, as live VMs are spread over a floating-IP range. Address lengths matter:
 * V8 keeps a substring of 13 or more characters as a slice of the text it was cut from, so long addresses keep
 * their element's text alive and short private ones would hide that cost.
 */
function addressOf(index: number, hostCount: number): string {
  const offset = 1 + Math.floor((index * (ADDRESSES - 1)) / Math.max(hostCount, 1));
  return `198.18.${offset >> 8}.${offset & 255}`;
}

function pickOpenPorts(random: (limit: number) => number): { port: number; service: string }[] {
  const count = 1 + random(4);
  const chosen = new Set<number>();
  while (chosen.size < count) chosen.add(random(OPEN_PORT_POOL.length));
  return [...chosen].sort((a, b) => a - b).map((index) => OPEN_PORT_POOL[index]!);
}

/** The header nmap writes for the exporter's own command line, `-&#45;` escapes included. */
function renderHeader(portSpec: string, portCount: number): string {
  const args = [
    'nmap',
    ...buildNmapArgs({
      family: 4,
      ports: portSpec,
      scanType: 'syn',
      privilege: 'root',
      hostDiscovery: true,
      tuning: {
        timingTemplate: 4,
        maxRttTimeoutMs: 500,
        maxRetries: 2,
        hostTimeoutMs: 600_000,
        minRate: 0,
        maxRate: 0,
      },
      statsEveryMs: 5000,
    }),
  ]
    .join(' ')
    .replaceAll('--', '-&#45;');
  const when = formatNmapTime(STARTED_AT);
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE nmaprun>\n' +
    '<?xml-stylesheet href="file:///usr/bin/../share/nmap/nmap.xsl" type="text/xsl"?>\n' +
    `<!-- Nmap 7.93 scan initiated ${when} as: ${args} -->\n` +
    `<nmaprun scanner="nmap" args="${args}" start="${STARTED_AT}" startstr="${when}" version="7.93" xmloutputversion="1.05">\n` +
    `<scaninfo type="syn" protocol="tcp" numservices="${portCount}" services="${portSpec}"/>\n` +
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
  scannedPorts: readonly number[],
  time: number,
  random: (limit: number) => number,
): string {
  const closed = scannedPorts.length - ports.length;
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
    `<extrareasons reason="reset" count="${closed}" proto="tcp" ports="${renderRanges(scannedPorts, ports)}"/>\n` +
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

/** The scanned ports other than `open`, as nmap's compact ranges ("1,3-4,6-7,9,13,…"). */
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
