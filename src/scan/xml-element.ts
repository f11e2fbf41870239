/**
 * Reads one complete XML element (a `<host>` or `<runstats>` that nmap-xml.ts cut out of nmap's stdout) into a
 * small tree that holds only the elements and attributes the caller asks for, and checks the whole element is
 * well-formed on the way.
 *
 * Most of a host's text is what the exporter has no use for: the `<extrareasons ports="1,3-4,6-7,…">` list of a
 * default scan is about 3.9 KB of a 4.5 KB host. So every attribute value and every run of text is stepped over with
 * one `indexOf`, and only the values of wanted attributes are cut out of the text. A general XML parser (a
 * validator plus a tree builder, or a SAX tokenizer) reads each of those characters one by one; this reader is
 * what made a 20,000-host scan parse several times faster (bench/README.md).
 *
 * Well-formed here means what nmap's output needs: tags that nest and close by name, attributes written
 * `name="value"` (or with single quotes) once each, no `<` in values or text, `&` only as a character or entity
 * reference, comments, CDATA sections and processing instructions closed, and nothing after the root element.
 * Entities stay undecoded; callers decode the values they keep.
 */

/** What to keep of an element: the attributes to read, and the child elements to keep (with theirs). */
export interface ElementShape {
  readonly attributes?: readonly string[];
  readonly children?: Readonly<Record<string, ElementShape>>;
}

export interface XmlElement {
  readonly name: string;
  /** The wanted attributes that are present, as written (entities undecoded). */
  readonly attributes: Readonly<Record<string, string>>;
  /** The wanted children, in document order. */
  readonly children: readonly XmlElement[];
}

/** A fault in the element's XML; the message says what and, for misnested tags, where. */
export class XmlSyntaxError extends Error {
  override readonly name = 'XmlSyntaxError';
}

interface MutableElement {
  readonly name: string;
  readonly attributes: Record<string, string>;
  readonly children: MutableElement[];
}

/** An element open while its content is read: its name, where its `<` is, and what to keep of its children. */
interface OpenElement {
  readonly name: string;
  readonly start: number;
  readonly shape: ElementShape | undefined;
  readonly kept: MutableElement | undefined;
}

const LESS_THAN = 0x3c;
const GREATER_THAN = 0x3e;
const SLASH = 0x2f;
const EQUALS = 0x3d;
const DOUBLE_QUOTE = 0x22;
const SINGLE_QUOTE = 0x27;

/**
 * Reads `text`, which must be exactly one element, keeping what `shape` asks for. Throws XmlSyntaxError when the
 * text is not one well-formed element.
 */
export function readXmlElement(text: string, shape: ElementShape): XmlElement {
  return new ElementReader(text).readRoot(shape);
}

/**
 * The attributes of a lone start tag (`<nmaprun …>`, whose element spans the whole document), checked like those
 * of any other tag. `tag` is the tag's whole text from `<` to `>`.
 */
export function readStartTagAttributes(tag: string, names: readonly string[]): Readonly<Record<string, string>> {
  return new ElementReader(tag).readStartTagOnly(names).attributes;
}

class ElementReader {
  readonly #text: string;
  #pos = 0;
  /** Attribute names of the tag being read, for the repeat check; reused from tag to tag. */
  readonly #seenNames: string[] = [];

  constructor(text: string) {
    this.#text = text;
  }

  readRoot(shape: ElementShape): XmlElement {
    const text = this.#text;
    if (text.charCodeAt(0) !== LESS_THAN) throw new XmlSyntaxError('The element does not start with a tag.');
    this.#pos = 1;
    const rootName = this.#readName('tag');
    const root: MutableElement = { name: rootName, attributes: {}, children: [] };
    const selfClosing = this.#readAttributes(rootName, shape.attributes, root.attributes);
    if (!selfClosing) {
      this.#readContent({ name: rootName, start: 0, shape, kept: root });
    }
    if (this.#pos !== text.length) {
      throw new XmlSyntaxError(`Extra text after the root element '${rootName}'.`);
    }
    return root;
  }

  readStartTagOnly(names: readonly string[]): XmlElement {
    const text = this.#text;
    if (text.charCodeAt(0) !== LESS_THAN) throw new XmlSyntaxError('The tag does not start with <.');
    this.#pos = 1;
    const name = this.#readName('tag');
    const element: MutableElement = { name, attributes: {}, children: [] };
    this.#readAttributes(name, names, element.attributes);
    if (this.#pos !== text.length) throw new XmlSyntaxError(`Extra text after the start tag '${name}'.`);
    return element;
  }

  /** Reads from after the start tag of `root` to just after its end tag. */
  #readContent(root: OpenElement): void {
    const text = this.#text;
    const open: OpenElement[] = [root];
    for (;;) {
      const lessThan = text.indexOf('<', this.#pos);
      if (lessThan === -1) {
        const innermost = open[open.length - 1]!;
        throw new XmlSyntaxError(`Unclosed tag '${innermost.name}'.`);
      }
      // Text between tags: the next `<` is found already, so only an `&` needs a look.
      this.#checkReferences(this.#pos, lessThan);
      const next = text.charCodeAt(lessThan + 1);
      if (next === SLASH) {
        this.#pos = lessThan + 2;
        const name = this.#readName('closing tag');
        this.#skipWhitespace();
        if (text.charCodeAt(this.#pos) !== GREATER_THAN) {
          throw new XmlSyntaxError(`Closing tag '${name}' does not end with >.`);
        }
        this.#pos += 1;
        const closed = open.pop()!;
        if (closed.name !== name) {
          throw new XmlSyntaxError(
            `Expected closing tag '${closed.name}' (opened ${describePlace(text, closed.start)}) instead of closing tag '${name}'.`,
          );
        }
        if (open.length === 0) return;
        continue;
      }
      if (next === 0x21 /* ! */) {
        this.#skipDeclaration(lessThan);
        continue;
      }
      if (next === 0x3f /* ? */) {
        this.#pos = this.#findAfter('?>', lessThan + 2, 'processing instruction');
        continue;
      }
      this.#pos = lessThan + 1;
      const name = this.#readName('tag');
      const parent = open[open.length - 1]!;
      const shape = parent.shape?.children?.[name];
      const kept: MutableElement | undefined =
        shape === undefined ? undefined : { name, attributes: {}, children: [] };
      const selfClosing = this.#readAttributes(name, shape?.attributes, kept?.attributes);
      if (kept !== undefined) parent.kept?.children.push(kept);
      if (!selfClosing) open.push({ name, start: lessThan, shape, kept });
    }
  }

  /** Comments and CDATA sections; anything else that starts `<!` has no place inside an element. */
  #skipDeclaration(lessThan: number): void {
    const text = this.#text;
    if (text.startsWith('<!--', lessThan)) {
      this.#pos = this.#findAfter('-->', lessThan + 4, 'comment');
    } else if (text.startsWith('<![CDATA[', lessThan)) {
      this.#pos = this.#findAfter(']]>', lessThan + 9, 'CDATA section');
    } else {
      throw new XmlSyntaxError(`Unexpected <! ${describePlace(this.#text, lessThan)}.`);
    }
  }

  #findAfter(marker: string, from: number, what: string): number {
    const at = this.#text.indexOf(marker, from);
    if (at === -1) throw new XmlSyntaxError(`Unclosed ${what}.`);
    return at + marker.length;
  }

  /**
   * Reads the attributes after a tag's name up to and including its `>`; keeps the values of `wanted` in `into`.
   * Returns whether the tag closes itself (`/>`).
   */
  #readAttributes(
    tagName: string,
    wanted: readonly string[] | undefined,
    into: Record<string, string> | undefined,
  ): boolean {
    const text = this.#text;
    const seen = this.#seenNames;
    seen.length = 0;
    for (;;) {
      const spaced = this.#skipWhitespace();
      const code = text.charCodeAt(this.#pos);
      if (code === GREATER_THAN) {
        this.#pos += 1;
        return false;
      }
      if (code === SLASH) {
        if (text.charCodeAt(this.#pos + 1) !== GREATER_THAN) {
          throw new XmlSyntaxError(`Tag '${tagName}' has a / that does not end it.`);
        }
        this.#pos += 2;
        return true;
      }
      if (Number.isNaN(code)) throw new XmlSyntaxError(`Tag '${tagName}' is not closed.`);
      if (!spaced) throw new XmlSyntaxError(`Tag '${tagName}' needs a space before its attribute.`);
      const name = this.#readName('attribute');
      if (seen.includes(name)) throw new XmlSyntaxError(`Attribute '${name}' is repeated.`);
      seen.push(name);
      this.#skipWhitespace();
      if (text.charCodeAt(this.#pos) !== EQUALS) throw new XmlSyntaxError(`Attribute '${name}' is without value.`);
      this.#pos += 1;
      this.#skipWhitespace();
      const quote = text.charCodeAt(this.#pos);
      if (quote !== DOUBLE_QUOTE && quote !== SINGLE_QUOTE) {
        throw new XmlSyntaxError(`Attribute '${name}' is without value.`);
      }
      const valueStart = this.#pos + 1;
      const valueEnd = text.indexOf(quote === DOUBLE_QUOTE ? '"' : "'", valueStart);
      if (valueEnd === -1) throw new XmlSyntaxError(`Attribute '${name}' has an unclosed value.`);
      const lessThan = text.indexOf('<', valueStart);
      if (lessThan !== -1 && lessThan < valueEnd) {
        throw new XmlSyntaxError(`Attribute '${name}' has < in its value.`);
      }
      this.#checkReferences(valueStart, valueEnd);
      if (into !== undefined && wanted?.includes(name) === true) into[name] = text.slice(valueStart, valueEnd);
      this.#pos = valueEnd + 1;
    }
  }

  /** Each `&` in [from, to) must start `&name;`, `&#digits;` or `&#xhex;`. */
  #checkReferences(from: number, to: number): void {
    const text = this.#text;
    let at = text.indexOf('&', from);
    while (at !== -1 && at < to) {
      const semicolon = text.indexOf(';', at);
      if (semicolon === -1 || semicolon >= to || !REFERENCE.test(text.slice(at + 1, semicolon))) {
        throw new XmlSyntaxError(`Invalid entity reference ${describePlace(text, at)}.`);
      }
      at = text.indexOf('&', semicolon);
    }
  }

  /** Returns whether any whitespace was skipped. */
  #skipWhitespace(): boolean {
    const text = this.#text;
    const start = this.#pos;
    let pos = start;
    for (;;) {
      const code = text.charCodeAt(pos);
      if (code !== 0x20 && code !== 0x0a && code !== 0x0d && code !== 0x09) break;
      pos += 1;
    }
    this.#pos = pos;
    return pos !== start;
  }

  /** An XML name at the current position; `what` names it in the error when there is none. */
  #readName(what: string): string {
    const text = this.#text;
    const start = this.#pos;
    let pos = start;
    for (;;) {
      const code = text.charCodeAt(pos);
      if (!(pos === start ? isNameStart(code) : isNameChar(code))) break;
      pos += 1;
    }
    if (pos === start) {
      throw new XmlSyntaxError(`Invalid ${what} name ${describePlace(text, start)}.`);
    }
    this.#pos = pos;
    return text.slice(start, pos);
  }
}

const REFERENCE = /^(?:[A-Za-z_:][\w.:-]*|#[0-9]+|#x[0-9a-fA-F]+)$/;

/** ASCII letters, `_` and `:`, and any non-ASCII character (XML allows most; nmap writes ASCII names). */
function isNameStart(code: number): boolean {
  return (
    (code >= 0x61 && code <= 0x7a) || (code >= 0x41 && code <= 0x5a) || code === 0x5f || code === 0x3a || code >= 0x80
  );
}

function isNameChar(code: number): boolean {
  return isNameStart(code) || (code >= 0x30 && code <= 0x39) || code === 0x2d || code === 0x2e;
}

/** "in line L, col C" of `offset` within the element, 1-based as editors count. */
function describePlace(text: string, offset: number): string {
  let line = 1;
  let lineStart = 0;
  for (let at = text.indexOf('\n'); at !== -1 && at < offset; at = text.indexOf('\n', at + 1)) {
    line += 1;
    lineStart = at + 1;
  }
  return `in line ${line}, col ${offset - lineStart + 1}`;
}
