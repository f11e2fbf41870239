/**
 * Streaming parser of nmap's `-oX -` output, fed stdout chunks while nmap runs.
 *
 * A 20,000-host scan writes about 90 MB of XML over many minutes, and the exporter wants each host (and each
 * progress line) as soon as nmap prints it. So the document is never parsed whole: the stream scans its buffer for
 * the next top-level markup inside `<nmaprun>`, cuts out each complete `<host>`, `<runstats>`, `<taskprogress>` or
 * `<target>` element and reads only that element (xml-element.ts checks it is well-formed and keeps only the
 * elements and attributes named below), skips the elements it has no use for unread, and keeps only the
 * unfinished tail in memory.
 */
import { ExporterError } from '../errors.ts';
import type { IpFamily } from '../net/addresses.ts';
import type { Protocol } from '../net/port-spec.ts';
import { XmlSyntaxError, readStartTagAttributes, readXmlElement } from './xml-element.ts';
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

export interface NmapXmlStreamOptions {
  /** Largest unfinished element kept in memory, in characters; beyond it the output is rejected. */
  readonly maxBufferedChars?: number;
}

export const DEFAULT_MAX_BUFFERED_CHARS = 8 * 1024 * 1024;

/** Garbage is quoted up to this many characters, so an error never carries a whole nmap output. */
const SNIPPET_CHARS = 40;

/** nmap's `start` and `time` attributes are Unix seconds; events carry milliseconds, like `Date.now()`. */
const MS_PER_SECOND = 1000;

/**
 * What the exporter reads of each element; everything else in it (`<extraports>` and its `<extrareasons>` port
 * lists, `<hostnames>`, `<times>`, `<os>`, scripts) is checked for well-formedness and stepped over.
 */
const HOST_SHAPE: ElementShape = {
  attributes: ['timedout'],
  children: {
    status: { attributes: ['state'] },
    address: { attributes: ['addr', 'addrtype'] },
    ports: {
      children: {
        port: {
          attributes: ['protocol', 'portid'],
          children: {
            state: { attributes: ['state'] },
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

type Phase = 'prolog' | 'body' | 'done';

export class NmapXmlStream {
  readonly #maxBufferedChars: number;
  #buffer = '';
  #phase: Phase = 'prolog';
  #hostsParsed = 0;
  #finished = false;
  #targetsSkipped = 0;
  #ended = false;
  /** Offset, relative to the pending markup, before which its end marker is known to be absent. */
  #searchFrom = 0;

  constructor(options: NmapXmlStreamOptions = {}) {
    this.#maxBufferedChars = options.maxBufferedChars ?? DEFAULT_MAX_BUFFERED_CHARS;
  }

  /** Characters held for an element whose end has not arrived yet. */
  get bufferedLength(): number {
    return this.#buffer.length;
  }

  get hostsParsed(): number {
    return this.#hostsParsed;
  }

  /** Takes the next piece of nmap's stdout; returns the events completed by it. Throws NMAP_OUTPUT_INVALID. */
  push(chunk: string): NmapXmlEvent[] {
    if (this.#ended) throw new Error('NmapXmlStream.push() called after end()');
    this.#buffer += chunk;
    const events = this.#consume(false);
    this.#assertBufferWithinCap();
    return events;
  }

  /** Declares the output complete; throws NMAP_OUTPUT_INVALID when the document is truncated or empty. */
  end(): NmapXmlEvent[] {
    if (this.#ended) throw new Error('NmapXmlStream.end() called twice');
    this.#ended = true;
    const events = this.#consume(true);
    this.#assertDocumentComplete();
    return events;
  }

  /** Reads markup from the buffer until the next item is incomplete, then keeps only that item's text. */
  #consume(atEnd: boolean): NmapXmlEvent[] {
    const events: NmapXmlEvent[] = [];
    let pos = 0;
    for (;;) {
      pos = skipWhitespace(this.#buffer, pos);
      if (pos === this.#buffer.length) break;
      const next = this.#readItem(pos, atEnd, events);
      if (next === undefined) break;
      pos = next;
      this.#searchFrom = 0;
    }
    this.#buffer = this.#buffer.slice(pos);
    return events;
  }

  /** Handles the item at `pos` and returns where the next one starts, or undefined when it is incomplete. */
  #readItem(pos: number, atEnd: boolean, events: NmapXmlEvent[]): number | undefined {
    if (this.#phase === 'done') {
      throw invalidOutput('nmap output continues after </nmaprun>');
    }
    if (this.#buffer[pos] !== '<') {
      return this.#rejectText(pos, atEnd);
    }
    const name = readMarkupName(this.#buffer, pos);
    if (name === undefined) return undefined;
    // Judged by its name alone, so unexpected markup fails at once instead of after its (absent) end tag.
    if (this.#phase === 'prolog') assertPrologMarkup(name);
    else this.#assertBodyMarkup(name);
    const end = this.#findMarkupEnd(pos, name);
    if (end === undefined) return undefined;
    const text = this.#buffer.slice(pos, end);
    if (this.#phase === 'prolog') this.#readPrologMarkup(name, text, events);
    else this.#readBodyMarkup(name, text, events);
    return end;
  }

  /** Text outside markup is never nmap's XML; it is reported once enough of it is seen to quote it the same way. */
  #rejectText(pos: number, atEnd: boolean): undefined {
    const snippet = readSnippet(this.#buffer, pos, atEnd);
    if (snippet === undefined) return undefined;
    throw invalidOutput(`nmap output is not XML: ${snippet}`);
  }

  #assertBodyMarkup(name: string): void {
    if (name === '' || name === 'nmaprun' || (name.startsWith('/') && name !== '/nmaprun')) {
      throw invalidOutput(`nmap output has unexpected <${name}> after ${describeHostCount(this.#hostsParsed)}`);
    }
  }

  #readPrologMarkup(name: string, text: string, events: NmapXmlEvent[]): void {
    if (name !== 'nmaprun') return;
    this.#phase = 'body';
    const run = parseRunHeader(text);
    if (run !== undefined) events.push(run);
  }

  #readBodyMarkup(name: string, text: string, events: NmapXmlEvent[]): void {
    switch (name) {
      case 'host':
        events.push({ kind: 'host', host: parseHostElement(text, this.#hostsParsed) });
        this.#hostsParsed += 1;
        return;
      case 'taskprogress':
        events.push(parseProgressElement(text, this.#hostsParsed));
        return;
      case 'target':
        if (isSkippedTarget(text, this.#hostsParsed)) this.#targetsSkipped += 1;
        return;
      case 'runstats':
        events.push(parseRunstatsElement(text, this.#targetsSkipped));
        this.#finished = true;
        return;
      case '/nmaprun':
        this.#phase = 'done';
        return;
      default:
        // scaninfo, verbose, debugging, taskbegin, taskend, hosthint (a host found up by host discovery; its
        // <host> follows), output, prescript, postscript, comments, and whatever a later nmap adds.
        return;
    }
  }

  /**
   * Where the markup named `name` at `pos` ends, or undefined while its end has not arrived. A start tag ends at
   * the first `>`: nmap escapes `>` inside attribute values, and a stray one would leave an unbalanced quote that
   * validation rejects.
   */
  #findMarkupEnd(pos: number, name: string): number | undefined {
    const terminator = terminatorOf(name);
    if (terminator !== undefined) return this.#findTerminator(pos, name, terminator);
    const tagEnd = this.#buffer.indexOf('>', pos);
    if (tagEnd === -1) return undefined;
    const selfClosing = this.#buffer[tagEnd - 1] === '/';
    // nmaprun's end tag comes last in the document; `!` markup (DOCTYPE) and end tags have no content.
    if (selfClosing || name === 'nmaprun' || name.startsWith('/') || name.startsWith('!')) return tagEnd + 1;
    return this.#findTerminator(pos, name, `</${name}>`);
  }

  /** Searches for `terminator`, resuming where the previous push stopped so a long element is scanned once. */
  #findTerminator(pos: number, name: string, terminator: string): number | undefined {
    const from = pos + Math.max(name.length + 1, this.#searchFrom);
    const at = this.#buffer.indexOf(terminator, from);
    if (at !== -1) return at + terminator.length;
    this.#searchFrom = Math.max(0, this.#buffer.length - pos - terminator.length + 1);
    return undefined;
  }

  #assertBufferWithinCap(): void {
    if (this.#buffer.length <= this.#maxBufferedChars) return;
    const name = readMarkupName(this.#buffer, 0);
    const what = name === undefined ? 'markup' : `<${name}>`;
    throw invalidOutput(
      `nmap output has over ${this.#maxBufferedChars} characters of unfinished ${what} ` +
        `(${describeHostCount(this.#hostsParsed)} parsed)`,
    );
  }

  #assertDocumentComplete(): void {
    if (this.#phase === 'prolog') {
      throw invalidOutput('nmap output is empty or has no <nmaprun>');
    }
    if (this.#phase === 'body') {
      const name = readMarkupName(this.#buffer, 0);
      const inside = name === undefined ? '' : `, cut inside <${name}>`;
      throw invalidOutput(
        `nmap output ended before </nmaprun> (${describeHostCount(this.#hostsParsed)} parsed${inside})`,
      );
    }
    if (!this.#finished) {
      throw invalidOutput('nmap output has no <runstats>');
    }
  }
}

/** Parses a whole document at once; the same events a stream gives for it. */
export function parseNmapXml(text: string, options: NmapXmlStreamOptions = {}): NmapXmlEvent[] {
  const stream = new NmapXmlStream(options);
  return [...stream.push(text), ...stream.end()];
}

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

function skipWhitespace(text: string, pos: number): number {
  let at = pos;
  while (at < text.length && isWhitespace(text.charCodeAt(at))) at += 1;
  return at;
}

function isWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;
}

/**
 * The name of the markup at `pos` (which holds `<`): a tag name, `/name` for a closing tag, `?target` for a
 * processing instruction, `!--` for a comment, `!DOCTYPE`; undefined while the name may still be growing.
 */
function readMarkupName(text: string, pos: number): string | undefined {
  if (text.startsWith('<!--', pos)) return '!--';
  let at = pos + 1;
  while (at < text.length) {
    const code = text.charCodeAt(at);
    if (isWhitespace(code) || code === 0x3e /* > */ || (code === 0x2f /* / */ && at > pos + 1)) break;
    at += 1;
  }
  if (at === text.length) return undefined;
  return text.slice(pos + 1, at);
}

/** The markup nmap writes before `<nmaprun>`: XML declaration, DOCTYPE, stylesheet, the command-line comment. */
function assertPrologMarkup(name: string): void {
  if (name === 'nmaprun' || name === '!--' || name === '!DOCTYPE' || name.startsWith('?')) return;
  throw invalidOutput(`nmap output does not start with <nmaprun>: found <${name}>`);
}

/** Markup that ends with a fixed marker rather than at its own `>` or at a closing tag. */
function terminatorOf(name: string): string | undefined {
  if (name === '!--') return '-->';
  if (name.startsWith('?')) return '?>';
  return undefined;
}

/**
 * Quotes garbage up to its first line break or SNIPPET_CHARS characters; undefined while neither is in view, so the
 * message does not depend on where chunks happened to split.
 */
function readSnippet(text: string, pos: number, atEnd: boolean): string | undefined {
  const available = text.slice(pos, pos + SNIPPET_CHARS + 1);
  const lineBreak = available.search(/[\r\n]/);
  if (lineBreak !== -1) return quoteSnippet(available.slice(0, lineBreak));
  if (available.length > SNIPPET_CHARS || atEnd) return quoteSnippet(available);
  return undefined;
}

/** Quotes (with JSON escapes, so control characters stay visible) at most SNIPPET_CHARS characters of `text`. */
function quoteSnippet(text: string): string {
  if (text.length <= SNIPPET_CHARS) return JSON.stringify(text);
  return `${JSON.stringify(text.slice(0, SNIPPET_CHARS))}...`;
}

function parseRunHeader(startTag: string): NmapXmlEvent | undefined {
  const where = '<nmaprun>';
  let attributes: Readonly<Record<string, string>>;
  try {
    attributes = readStartTagAttributes(startTag, RUN_ATTRIBUTES);
  } catch (err) {
    throw malformed(err, where);
  }
  const element: XmlElement = { name: 'nmaprun', attributes, children: [] };
  const version = readAttribute(element, 'version');
  if (version === undefined) return undefined;
  return {
    kind: 'run',
    version,
    args: readAttribute(element, 'args') ?? '',
    startedAt: readNumberAttribute(element, 'start', where) * MS_PER_SECOND,
  };
}

function parseHostElement(text: string, hostsParsed: number): NmapHost {
  const where = `<host> #${hostsParsed + 1}`;
  const element = parseElement(text, HOST_SHAPE, where);
  const address = findIpAddress(element, where);
  return {
    ip: detachString(address.ip),
    family: address.family,
    state: internName(readAttribute(readChild(element, 'status'), 'state') ?? 'unknown'),
    timedOut: readAttribute(element, 'timedout') === 'true',
    ports: readChildren(readChild(element, 'ports'), 'port').map((port) => parsePortElement(port, where)),
  };
}

function findIpAddress(host: XmlElement, where: string): { ip: string; family: IpFamily } {
  for (const address of readChildren(host, 'address')) {
    const type = readAttribute(address, 'addrtype');
    const ip = readAttribute(address, 'addr');
    if (ip === undefined) continue;
    if (type === 'ipv4') return { ip, family: 4 };
    if (type === 'ipv6') return { ip, family: 6 };
  }
  throw invalidOutput(`nmap output has no IP address in ${where}`);
}

function parsePortElement(port: XmlElement, where: string): NmapPort {
  const number = readNumberAttribute(port, 'portid', where);
  if (!Number.isInteger(number) || number < 0 || number > 65535) {
    throw invalidOutput(`nmap output has port number ${number} in ${where}`);
  }
  const protocol = readAttribute(port, 'protocol');
  if (protocol !== 'tcp' && protocol !== 'udp' && protocol !== 'sctp') {
    throw invalidOutput(`nmap output has unsupported protocol ${quoteSnippet(protocol ?? '')} in ${where}`);
  }
  const service = readChild(port, 'service');
  const scripts = readChildren(port, 'script');
  return {
    port: number,
    protocol,
    state: internName(readAttribute(readChild(port, 'state'), 'state') ?? 'unknown'),
    service: internName(readAttribute(service, 'name') ?? ''),
    product: internName(readAttribute(service, 'product') ?? ''),
    version: internName(readAttribute(service, 'version') ?? ''),
    scripts: scripts.length === 0
      ? NO_SCRIPTS
      : scripts.map((script) => ({ id: internName(readAttribute(script, 'id') ?? ''), output: detachString(readAttribute(script, 'output') ?? '') })),
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

function parseProgressElement(text: string, hostsParsed: number): NmapXmlEvent {
  const where = `<taskprogress> after ${describeHostCount(hostsParsed)}`;
  const element = parseElement(text, PROGRESS_SHAPE, where);
  const remaining = readAttribute(element, 'remaining');
  return {
    kind: 'progress',
    task: readAttribute(element, 'task') ?? '',
    percent: readNumberAttribute(element, 'percent', where),
    remainingSeconds: remaining === undefined ? undefined : readNumberAttribute(element, 'remaining', where),
  };
}

function isSkippedTarget(text: string, hostsParsed: number): boolean {
  const element = parseElement(text, TARGET_SHAPE, `<target> after ${describeHostCount(hostsParsed)}`);
  return readAttribute(element, 'status') === 'skipped';
}

function parseRunstatsElement(text: string, targetsSkipped: number): NmapXmlEvent {
  const where = '<runstats>';
  const element = parseElement(text, RUNSTATS_SHAPE, where);
  const finished = readChild(element, 'finished');
  const hosts = readChild(element, 'hosts');
  if (finished === undefined || hosts === undefined) {
    throw invalidOutput(`nmap output has no <finished> and <hosts> in ${where}`);
  }
  return {
    kind: 'finished',
    exit: readAttribute(finished, 'exit') ?? 'success',
    errorMessage: readAttribute(finished, 'errormsg')?.trimEnd(),
    hostsUp: readNumberAttribute(hosts, 'up', where),
    hostsDown: readNumberAttribute(hosts, 'down', where),
    hostsTotal: readNumberAttribute(hosts, 'total', where),
    targetsSkipped,
  };
}

/**
 * Checks one complete element (cut out by the stream, so its name is known) and returns what `shape` keeps of
 * it; `where` names it in the error.
 */
function parseElement(text: string, shape: ElementShape, where: string): XmlElement {
  try {
    return readXmlElement(text, shape);
  } catch (err) {
    throw malformed(err, where);
  }
}

function malformed(err: unknown, where: string): unknown {
  if (!(err instanceof XmlSyntaxError)) return err;
  return new ExporterError('NMAP_OUTPUT_INVALID', `nmap output has a malformed ${where}: ${err.message}`, { cause: err });
}

function readChild(element: XmlElement | undefined, name: string): XmlElement | undefined {
  return element?.children.find((child) => child.name === name);
}

function readChildren(element: XmlElement | undefined, name: string): XmlElement[] {
  return element === undefined ? [] : element.children.filter((child) => child.name === name);
}

function readAttribute(element: XmlElement | undefined, name: string): string | undefined {
  const value = element?.attributes[name];
  return value === undefined ? undefined : decodeXmlText(value);
}

/** nmap writes plain decimals (`27.29`, `1795700210`); anything else, hex or exponents included, is not its output. */
function readNumberAttribute(element: XmlElement, name: string, where: string): number {
  const raw = readAttribute(element, name);
  if (raw === undefined || !/^-?\d+(?:\.\d+)?$/.test(raw)) {
    throw invalidOutput(`nmap output has ${name}=${quoteSnippet(raw ?? '')} in ${where}, expected a number`);
  }
  return Number(raw);
}

function describeHostCount(count: number): string {
  return count === 1 ? '1 host' : `${count} hosts`;
}

function invalidOutput(message: string): ExporterError {
  return new ExporterError('NMAP_OUTPUT_INVALID', message);
}
