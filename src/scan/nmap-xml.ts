/**
 * Streaming parser of nmap's `-oX -` output, fed stdout chunks while nmap runs: each complete top-level element
 * is cut out and read as it arrives, and only the unfinished tail stays in memory (docs/design-notes.md).
 */
import {
  SNIPPET_CHARS,
  describeHostCount,
  invalidOutput,
  isSkippedTarget,
  parseHostElement,
  parseProgressElement,
  parseRunHeader,
  parseRunstatsElement,
  quoteSnippet,
} from './nmap-elements.ts';
import type { NmapXmlEvent } from './nmap-elements.ts';

export { decodeXmlText } from './nmap-elements.ts';
export type { NmapHost, NmapPort, NmapScriptOutput, NmapXmlEvent } from './nmap-elements.ts';

export interface NmapXmlStreamOptions {
  /** Largest unfinished element kept in memory, in characters; beyond it the output is rejected. */
  readonly maxBufferedChars?: number;
}

export const DEFAULT_MAX_BUFFERED_CHARS = 8 * 1024 * 1024;

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
      const next = this.#parseItem(pos, atEnd, events);
      if (next === undefined) break;
      pos = next;
      this.#searchFrom = 0;
    }
    this.#buffer = this.#buffer.slice(pos);
    return events;
  }

  /** Handles the item at `pos` and returns where the next one starts, or undefined when it is incomplete. */
  #parseItem(pos: number, atEnd: boolean, events: NmapXmlEvent[]): number | undefined {
    if (this.#phase === 'done') {
      throw invalidOutput('nmap output continues after </nmaprun>');
    }
    if (this.#buffer[pos] !== '<') {
      return this.#rejectText(pos, atEnd);
    }
    const name = parseMarkupName(this.#buffer, pos);
    if (name === undefined) return undefined;
    // Judged by its name alone, so unexpected markup fails at once instead of after its (absent) end tag.
    if (this.#phase === 'prolog') assertPrologMarkup(name);
    else this.#assertBodyMarkup(name);
    const end = this.#findMarkupEnd(pos, name);
    if (end === undefined) return undefined;
    const text = this.#buffer.slice(pos, end);
    if (this.#phase === 'prolog') this.#parsePrologMarkup(name, text, events);
    else this.#parseBodyMarkup(name, text, events);
    return end;
  }

  /** Text outside markup is never nmap's XML; it is reported once enough of it is seen to quote it the same way. */
  #rejectText(pos: number, atEnd: boolean): undefined {
    const snippet = renderSnippet(this.#buffer, pos, atEnd);
    if (snippet === undefined) return undefined;
    throw invalidOutput(`nmap output is not XML: ${snippet}`);
  }

  #assertBodyMarkup(name: string): void {
    if (name === '' || name === 'nmaprun' || (name.startsWith('/') && name !== '/nmaprun')) {
      throw invalidOutput(`nmap output has unexpected <${name}> after ${describeHostCount(this.#hostsParsed)}`);
    }
  }

  #parsePrologMarkup(name: string, text: string, events: NmapXmlEvent[]): void {
    if (name !== 'nmaprun') return;
    this.#phase = 'body';
    const run = parseRunHeader(text);
    if (run !== undefined) events.push(run);
  }

  #parseBodyMarkup(name: string, text: string, events: NmapXmlEvent[]): void {
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
    const name = parseMarkupName(this.#buffer, 0);
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
      const name = parseMarkupName(this.#buffer, 0);
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
function parseMarkupName(text: string, pos: number): string | undefined {
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
function renderSnippet(text: string, pos: number, atEnd: boolean): string | undefined {
  const available = text.slice(pos, pos + SNIPPET_CHARS + 1);
  const lineBreak = available.search(/[\r\n]/);
  if (lineBreak !== -1) return quoteSnippet(available.slice(0, lineBreak));
  if (available.length > SNIPPET_CHARS || atEnd) return quoteSnippet(available);
  return undefined;
}
