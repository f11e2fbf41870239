/**
 * The elements of nmap's XML the exporter reads (`<host>`, `<taskprogress>`, `<target>`, `<runstats>`,
 * `<nmaprun>`), each cut out by nmap-xml.ts and read here into an event; what the shapes do not name is stepped over.
 */
import { ExporterError } from '../errors.ts';
import type { IpFamily } from '../net/addresses.ts';
import type { Protocol } from '../net/port-spec.ts';
import { XmlSyntaxError, parseStartTagAttributes, parseXmlElement } from './xml-element.ts';
import type { ElementShape, XmlElement } from './xml-element.ts';

export interface NmapPort {
  readonly port: number;
  readonly protocol: Protocol;
  /** nmap's state: open, closed, filtered, open|filtered, … Ports nmap folded into `<extraports>` are not listed. */
  readonly state: string;
  /** nmap's service name, '' when nmap has none (a port missing from nmap-services). */
  readonly service: string;
  /** What -sV found: the product and its version, '' without -sV or when nmap could not tell. */
  readonly product: string;
  readonly version: string;
  /** The NSE scripts that ran on the port (--script), with their text output. */
  readonly scripts: readonly NmapScriptOutput[];
}

export interface NmapScriptOutput {
  readonly id: string;
  readonly output: string;
}

export interface NmapHost {
  readonly ip: string;
  readonly family: IpFamily;
  /** up, down (listed only with -v), unknown or skipped. */
  readonly state: string;
  /** nmap gave up on the host (--host-timeout) and reports no ports for it: its ports are unknown, not closed. */
  readonly timedOut: boolean;
  /**
   * The host itself answered something: host discovery, or any probe (an open or closed port, an ICMP port
   * unreachable). Without discovery (-Pn) nmap calls every address up, and this tells the silent ones apart.
   */
  readonly answered: boolean;
  readonly ports: readonly NmapPort[];
}

export type NmapXmlEvent =
  /** The `<nmaprun>` header. Absent when nmap failed before writing it (it then writes a bare `<nmaprun>`). */
  | { readonly kind: 'run'; readonly version: string; readonly args: string; readonly startedAt: number }
  | { readonly kind: 'host'; readonly host: NmapHost }
  | {
      readonly kind: 'progress';
      readonly task: string;
      readonly percent: number;
      /** nmap omits its estimate while under about 1 % done. */
      readonly remainingSeconds: number | undefined;
    }
  | {
      readonly kind: 'finished';
      /** 'success' or 'error'. */
      readonly exit: string;
      readonly errorMessage: string | undefined;
      readonly hostsUp: number;
      readonly hostsDown: number;
      /** nmap's count, which leaves out skipped targets. */
      readonly hostsTotal: number;
      /**
       * Targets nmap dropped without scanning them (`<target status="skipped">`, e.g. no route to them); exit is
       * still 'success', so this is the only trace of them.
       */
      readonly targetsSkipped: number;
    };

/** Garbage is quoted up to this many characters, so an error never carries a whole nmap output. */
export const SNIPPET_CHARS = 40;

/** nmap's `start` and `time` attributes are Unix seconds; events carry milliseconds, like `Date.now()`. */
const MS_PER_SECOND = 1000;

/**
 * What the exporter reads of each element; everything else in it (`<extraports>` and its `<extrareasons>` port
 * lists, `<hostnames>`, `<times>`, `<os>`, host scripts, a port script's `<elem>` tables) is checked for
 * well-formedness and stepped over.
 */
const HOST_SHAPE: ElementShape = {
  attributes: ['timedout'],
  children: {
    status: { attributes: ['state', 'reason'] },
    address: { attributes: ['addr', 'addrtype'] },
    ports: {
      children: {
        extraports: { children: { extrareasons: { attributes: ['reason'] } } },
        port: {
          attributes: ['protocol', 'portid'],
          children: {
            state: { attributes: ['state', 'reason'] },
            service: { attributes: ['name', 'product', 'version'] },
            script: { attributes: ['id', 'output'] },
          },
        },
      },
    },
  },
};
const PROGRESS_SHAPE: ElementShape = { attributes: ['task', 'percent', 'remaining'] };
const TARGET_SHAPE: ElementShape = { attributes: ['status'] };
const RUNSTATS_SHAPE: ElementShape = {
  children: {
    finished: { attributes: ['exit', 'errormsg'] },
    hosts: { attributes: ['up', 'down', 'total'] },
  },
};
const RUN_ATTRIBUTES = ['version', 'args', 'start'];

/** Decodes the entities nmap writes: the five XML names and numeric references. Unknown names stay as written. */
export function decodeXmlText(raw: string): string {
  if (!raw.includes('&')) return raw;
  return raw.replace(/&(?:#x([0-9a-fA-F]+)|#([0-9]+)|(amp|lt|gt|quot|apos));/g, decodeEntity);
}

const NAMED_ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeEntity(
  match: string,
  hex: string | undefined,
  dec: string | undefined,
  name: string | undefined,
): string {
  if (name !== undefined) return NAMED_ENTITIES[name] ?? match;
  const codePoint = hex !== undefined ? Number.parseInt(hex, 16) : Number(dec);
  return codePoint <= 0x10ffff ? String.fromCodePoint(codePoint) : match;
}

/** Quotes (with JSON escapes, so control characters stay visible) at most SNIPPET_CHARS characters of `text`. */
export function quoteSnippet(text: string): string {
  if (text.length <= SNIPPET_CHARS) return JSON.stringify(text);
  return `${JSON.stringify(text.slice(0, SNIPPET_CHARS))}...`;
}

export function parseRunHeader(startTag: string): NmapXmlEvent | undefined {
  const where = '<nmaprun>';
  let attributes: Readonly<Record<string, string>>;
  try {
    attributes = parseStartTagAttributes(startTag, RUN_ATTRIBUTES);
  } catch (err) {
    throw malformed(err, where);
  }
  const element: XmlElement = { name: 'nmaprun', attributes, children: [] };
  const version = findAttribute(element, 'version');
  if (version === undefined) return undefined;
  return {
    kind: 'run',
    version,
    args: findAttribute(element, 'args') ?? '',
    startedAt: parseNumberAttribute(element, 'start', where) * MS_PER_SECOND,
  };
}

export function parseHostElement(text: string, hostsParsed: number): NmapHost {
  const where = `<host> #${hostsParsed + 1}`;
  const element = parseElement(text, HOST_SHAPE, where);
  const address = findIpAddress(element, where);
  const status = findChild(element, 'status');
  const ports = findChild(element, 'ports');
  return {
    ip: detachString(address.ip),
    family: address.family,
    state: internName(findAttribute(status, 'state') ?? 'unknown'),
    timedOut: findAttribute(element, 'timedout') === 'true',
    answered:
      isDiscoveryAnswer(findAttribute(status, 'reason')) ||
      listPortReasons(ports).some((reason) => HOST_ANSWERS.has(reason)),
    ports: findChildren(ports, 'port').map((port) => parsePortElement(port, where)),
  };
}

/**
 * The reasons only the host itself gives: a router's host-unreachable or an edge's admin-prohibited says
 * nothing of whether a VM is behind the address.
 */
const HOST_ANSWERS: ReadonlySet<string> = new Set([
  'syn-ack',
  'reset',
  'conn-refused',
  'udp-response',
  'port-unreach',
  'proto-response',
]);

/** `user-set` is -Pn's "up because you said so"; any other reason for up is an answer to discovery. */
function isDiscoveryAnswer(reason: string | undefined): boolean {
  return reason !== undefined && reason !== 'user-set' && reason !== 'no-response';
}

function listPortReasons(ports: XmlElement | undefined): string[] {
  const listed = findChildren(ports, 'port').map((port) => findAttribute(findChild(port, 'state'), 'reason'));
  const folded = findChildren(ports, 'extraports').flatMap((extra) =>
    findChildren(extra, 'extrareasons').map((reasons) => findAttribute(reasons, 'reason')),
  );
  return [...listed, ...folded].filter((reason) => reason !== undefined);
}

function findIpAddress(host: XmlElement, where: string): { ip: string; family: IpFamily } {
  for (const address of findChildren(host, 'address')) {
    const type = findAttribute(address, 'addrtype');
    const ip = findAttribute(address, 'addr');
    if (ip === undefined) continue;
    if (type === 'ipv4') return { ip, family: 4 };
    if (type === 'ipv6') return { ip, family: 6 };
  }
  throw invalidOutput(`nmap output has no IP address in ${where}`);
}

function parsePortElement(port: XmlElement, where: string): NmapPort {
  const number = parseNumberAttribute(port, 'portid', where);
  if (!Number.isInteger(number) || number < 0 || number > 65535) {
    throw invalidOutput(`nmap output has port number ${number} in ${where}`);
  }
  const protocol = findAttribute(port, 'protocol');
  if (protocol !== 'tcp' && protocol !== 'udp' && protocol !== 'sctp') {
    throw invalidOutput(`nmap output has unsupported protocol ${quoteSnippet(protocol ?? '')} in ${where}`);
  }
  const service = findChild(port, 'service');
  const scripts = findChildren(port, 'script');
  return {
    port: number,
    protocol,
    state: internName(findAttribute(findChild(port, 'state'), 'state') ?? 'unknown'),
    service: internName(findAttribute(service, 'name') ?? ''),
    product: internName(findAttribute(service, 'product') ?? ''),
    version: internName(findAttribute(service, 'version') ?? ''),
    scripts:
      scripts.length === 0
        ? NO_SCRIPTS
        : scripts.map((script) => ({
            id: internName(findAttribute(script, 'id') ?? ''),
            output: detachString(findAttribute(script, 'output') ?? ''),
          })),
  };
}

/** One shared empty list: almost every port of a plain port scan has no script output. */
const NO_SCRIPTS: readonly NmapScriptOutput[] = Object.freeze([]);

/**
 * A copy that does not point into nmap's stdout. V8 keeps a substring of 13 or more characters as a slice of
 * the string it was cut from, which here is the stream's whole buffer (a 64 KiB read or more), so an address
 * such as "198.18.100.200" would hold that buffer in memory for as long as the snapshot keeps the address.
 */
function detachString(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}

/**
 * Port states and service names come from small sets (nmap-services has about 27,000 names, and a scan sees a
 * few dozen), so each is kept once, detached, instead of once per port. The table stops growing at a bound so
 * odd output cannot make it large.
 */
const NAMES = new Map<string, string>();
const MAX_NAMES = 4096;

function internName(text: string): string {
  const known = NAMES.get(text);
  if (known !== undefined) return known;
  const copy = detachString(text);
  if (NAMES.size < MAX_NAMES) NAMES.set(copy, copy);
  return copy;
}

export function parseProgressElement(text: string, hostsParsed: number): NmapXmlEvent {
  const where = `<taskprogress> after ${describeHostCount(hostsParsed)}`;
  const element = parseElement(text, PROGRESS_SHAPE, where);
  const remaining = findAttribute(element, 'remaining');
  return {
    kind: 'progress',
    task: findAttribute(element, 'task') ?? '',
    percent: parseNumberAttribute(element, 'percent', where),
    remainingSeconds: remaining === undefined ? undefined : parseNumberAttribute(element, 'remaining', where),
  };
}

export function isSkippedTarget(text: string, hostsParsed: number): boolean {
  const element = parseElement(text, TARGET_SHAPE, `<target> after ${describeHostCount(hostsParsed)}`);
  return findAttribute(element, 'status') === 'skipped';
}

export function parseRunstatsElement(text: string, targetsSkipped: number): NmapXmlEvent {
  const where = '<runstats>';
  const element = parseElement(text, RUNSTATS_SHAPE, where);
  const finished = findChild(element, 'finished');
  const hosts = findChild(element, 'hosts');
  if (finished === undefined || hosts === undefined) {
    throw invalidOutput(`nmap output has no <finished> and <hosts> in ${where}`);
  }
  return {
    kind: 'finished',
    exit: findAttribute(finished, 'exit') ?? 'success',
    errorMessage: findAttribute(finished, 'errormsg')?.trimEnd(),
    hostsUp: parseNumberAttribute(hosts, 'up', where),
    hostsDown: parseNumberAttribute(hosts, 'down', where),
    hostsTotal: parseNumberAttribute(hosts, 'total', where),
    targetsSkipped,
  };
}

/**
 * Checks one complete element (cut out by the stream, so its name is known) and returns what `shape` keeps of
 * it; `where` names it in the error.
 */
function parseElement(text: string, shape: ElementShape, where: string): XmlElement {
  try {
    return parseXmlElement(text, shape);
  } catch (err) {
    throw malformed(err, where);
  }
}

function malformed(err: unknown, where: string): unknown {
  if (!(err instanceof XmlSyntaxError)) return err;
  return new ExporterError('NMAP_OUTPUT_INVALID', `nmap output has a malformed ${where}: ${err.message}`, {
    cause: err,
  });
}

function findChild(element: XmlElement | undefined, name: string): XmlElement | undefined {
  return element?.children.find((child) => child.name === name);
}

function findChildren(element: XmlElement | undefined, name: string): XmlElement[] {
  return element === undefined ? [] : element.children.filter((child) => child.name === name);
}

function findAttribute(element: XmlElement | undefined, name: string): string | undefined {
  const value = element?.attributes[name];
  return value === undefined ? undefined : decodeXmlText(value);
}

/** nmap writes plain decimals (`27.29`, `1795700210`); anything else, hex or exponents included, is not its output. */
function parseNumberAttribute(element: XmlElement, name: string, where: string): number {
  const raw = findAttribute(element, name);
  if (raw === undefined || !/^-?\d+(?:\.\d+)?$/.test(raw)) {
    throw invalidOutput(`nmap output has ${name}=${quoteSnippet(raw ?? '')} in ${where}, expected a number`);
  }
  return Number(raw);
}

export function describeHostCount(count: number): string {
  return count === 1 ? '1 host' : `${count} hosts`;
}

export function invalidOutput(message: string): ExporterError {
  return new ExporterError('NMAP_OUTPUT_INVALID', message);
}
