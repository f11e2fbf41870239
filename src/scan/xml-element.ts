/**
 * Reads one cut-out XML element into a tree of only the elements and attributes asked for, checking it is
 * well-formed; unwanted text is stepped over with indexOf, which made large scans parse fast (docs/design-notes.md).
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

/**
 * An element open while its content is read: where its `<` is, where its name ends (names are compared where they
 * stand in the text, so no string is made for the many elements that are not kept), and what to keep below it.
 */
interface OpenElement {
  readonly start: number;
  readonly nameEnd: number;
  readonly children: readonly ShapeEntry[] | undefined;
  readonly kept: MutableElement | undefined;
}

/** A shape's children as a list, for a lookup by comparing the text in place. */
type ShapeEntry = readonly [name: string, shape: ElementShape];

const CHILD_ENTRIES = new WeakMap<ElementShape, readonly ShapeEntry[]>();

function listChildren(shape: ElementShape | undefined): readonly ShapeEntry[] | undefined {
  if (shape?.children === undefined) return undefined;
  let entries = CHILD_ENTRIES.get(shape);
  if (entries === undefined) {
    entries = Object.entries(shape.children);
    CHILD_ENTRIES.set(shape, entries);
  }
  return entries;
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
export function parseXmlElement(text: string, shape: ElementShape): XmlElement {
  return new ElementReader(text).parseRoot(shape);
}

/**
 * The attributes of a lone start tag (`<nmaprun …>`, whose element spans the whole document), checked like those
 * of any other tag. `tag` is the tag's whole text from `<` to `>`.
 */
export function parseStartTagAttributes(tag: string, names: readonly string[]): Readonly<Record<string, string>> {
  return new ElementReader(tag).parseStartTagOnly(names).attributes;
}

class ElementReader {
  readonly #text: string;
  #pos = 0;
  /** Where the next `&` at or after the last checked range is; text.length when there is none. */
  #nextAmpersand = -1;
  /** The same for `<`, which no attribute value may hold. */
  #nextLessThan = -1;
  /** Where the names of the current tag's attributes start and end, for the repeat check; reused. */
  readonly #seenNames: number[] = [];

  constructor(text: string) {
    this.#text = text;
  }

  parseRoot(shape: ElementShape): XmlElement {
    const text = this.#text;
    if (text.charCodeAt(0) !== LESS_THAN) throw new XmlSyntaxError('The element does not start with a tag.');
    this.#pos = 1;
    const nameEnd = this.#parseName('tag');
    const root: MutableElement = { name: text.slice(1, nameEnd), attributes: {}, children: [] };
    const selfClosing = this.#parseAttributes(1, nameEnd, shape.attributes, root.attributes);
    if (!selfClosing) {
      this.#parseContent({ start: 0, nameEnd, children: listChildren(shape), kept: root });
    }
    if (this.#pos !== text.length) {
      throw new XmlSyntaxError(`Extra text after the root element '${root.name}'.`);
    }
    return root;
  }

  parseStartTagOnly(names: readonly string[]): XmlElement {
    const text = this.#text;
    if (text.charCodeAt(0) !== LESS_THAN) throw new XmlSyntaxError('The tag does not start with <.');
    this.#pos = 1;
    const nameEnd = this.#parseName('tag');
    const element: MutableElement = { name: text.slice(1, nameEnd), attributes: {}, children: [] };
    this.#parseAttributes(1, nameEnd, names, element.attributes);
    if (this.#pos !== text.length) throw new XmlSyntaxError(`Extra text after the start tag '${element.name}'.`);
    return element;
  }

  /** Reads from after the start tag of `root` to just after its end tag. */
  #parseContent(root: OpenElement): void {
    const text = this.#text;
    const open: OpenElement[] = [root];
    for (;;) {
      const lessThan = text.indexOf('<', this.#pos);
      if (lessThan === -1) {
        const innermost = open[open.length - 1]!;
        throw new XmlSyntaxError(`Unclosed tag '${text.slice(innermost.start + 1, innermost.nameEnd)}'.`);
      }
      // Text between tags: the next `<` is found already, so only an `&` needs a look.
      this.#checkReferences(this.#pos, lessThan);
      const next = text.charCodeAt(lessThan + 1);
      if (next === SLASH) {
        this.#parseEndTag(lessThan, open.pop()!);
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
      const nameEnd = this.#parseName('tag');
      const parent = open[open.length - 1]!;
      const entry = parent.children === undefined ? undefined : this.#findEntry(parent.children, lessThan + 1, nameEnd);
      const kept: MutableElement | undefined =
        entry === undefined ? undefined : { name: entry[0], attributes: {}, children: [] };
      const selfClosing = this.#parseAttributes(lessThan + 1, nameEnd, entry?.[1].attributes, kept?.attributes);
      if (kept !== undefined) parent.kept?.children.push(kept);
      if (!selfClosing) open.push({ start: lessThan, nameEnd, children: listChildren(entry?.[1]), kept });
    }
  }

  /** The end tag at `lessThan`, which must close `closed`. */
  #parseEndTag(lessThan: number, closed: OpenElement): void {
    const text = this.#text;
    const nameStart = lessThan + 2;
    this.#pos = nameStart;
    const nameEnd = this.#parseName('closing tag');
    this.#skipWhitespace();
    if (text.charCodeAt(this.#pos) !== GREATER_THAN) {
      throw new XmlSyntaxError(`Closing tag '${text.slice(nameStart, nameEnd)}' does not end with >.`);
    }
    this.#pos += 1;
    if (!this.#sameName(closed.start + 1, closed.nameEnd, nameStart, nameEnd)) {
      const openName = text.slice(closed.start + 1, closed.nameEnd);
      throw new XmlSyntaxError(
        `Expected closing tag '${openName}' (opened ${describePlace(text, closed.start)}) ` +
          `instead of closing tag '${text.slice(nameStart, nameEnd)}'.`,
      );
    }
  }

  #findEntry(entries: readonly ShapeEntry[], nameStart: number, nameEnd: number): ShapeEntry | undefined {
    const length = nameEnd - nameStart;
    return entries.find(([name]) => name.length === length && this.#text.startsWith(name, nameStart));
  }

  #sameName(aStart: number, aEnd: number, bStart: number, bEnd: number): boolean {
    if (aEnd - aStart !== bEnd - bStart) return false;
    const text = this.#text;
    for (let i = 0; i < aEnd - aStart; i += 1) {
      if (text.charCodeAt(aStart + i) !== text.charCodeAt(bStart + i)) return false;
    }
    return true;
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
   * Reads the attributes after the tag name in [nameStart, nameEnd) up to and including the tag's `>`; keeps the
   * values of `wanted` in `into`. Returns whether the tag closes itself (`/>`).
   */
  #parseAttributes(
    nameStart: number,
    nameEnd: number,
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
          throw new XmlSyntaxError(`Tag '${text.slice(nameStart, nameEnd)}' has a / that does not end it.`);
        }
        this.#pos += 2;
        return true;
      }
      if (Number.isNaN(code)) throw new XmlSyntaxError(`Tag '${text.slice(nameStart, nameEnd)}' is not closed.`);
      if (!spaced) {
        throw new XmlSyntaxError(`Tag '${text.slice(nameStart, nameEnd)}' needs a space before its attribute.`);
      }
      const attributeStart = this.#pos;
      const attributeEnd = this.#parseName('attribute');
      for (let i = 0; i < seen.length; i += 2) {
        if (this.#sameName(seen[i]!, seen[i + 1]!, attributeStart, attributeEnd)) {
          throw this.#attributeError(attributeStart, attributeEnd, 'is repeated');
        }
      }
      seen.push(attributeStart, attributeEnd);
      this.#skipWhitespace();
      if (text.charCodeAt(this.#pos) !== EQUALS)
        throw this.#attributeError(attributeStart, attributeEnd, 'is without value');
      this.#pos += 1;
      this.#skipWhitespace();
      const quote = text.charCodeAt(this.#pos);
      if (quote !== DOUBLE_QUOTE && quote !== SINGLE_QUOTE) {
        throw this.#attributeError(attributeStart, attributeEnd, 'is without value');
      }
      const valueStart = this.#pos + 1;
      const valueEnd = text.indexOf(quote === DOUBLE_QUOTE ? '"' : "'", valueStart);
      if (valueEnd === -1) throw this.#attributeError(attributeStart, attributeEnd, 'has an unclosed value');
      if (this.#nextLessThan < valueStart) this.#nextLessThan = findOrEnd(text, '<', valueStart);
      if (this.#nextLessThan < valueEnd) throw this.#attributeError(attributeStart, attributeEnd, 'has < in its value');
      this.#checkReferences(valueStart, valueEnd);
      if (into !== undefined && wanted !== undefined) {
        const length = attributeEnd - attributeStart;
        const name = wanted.find(
          (candidate) => candidate.length === length && text.startsWith(candidate, attributeStart),
        );
        if (name !== undefined) into[name] = text.slice(valueStart, valueEnd);
      }
      this.#pos = valueEnd + 1;
    }
  }

  #attributeError(nameStart: number, nameEnd: number, fault: string): XmlSyntaxError {
    return new XmlSyntaxError(`Attribute '${this.#text.slice(nameStart, nameEnd)}' ${fault}.`);
  }

  /**
   * Each `&` in [from, to) must start `&name;`, `&#digits;` or `&#xhex;`. Ranges come in document order, so the
   * next `&` is found once and kept: searching afresh from each value would scan the rest of the element (most
   * elements have no `&` at all) once per attribute.
   */
  #checkReferences(from: number, to: number): void {
    const text = this.#text;
    if (this.#nextAmpersand < from) this.#nextAmpersand = findOrEnd(text, '&', from);
    while (this.#nextAmpersand < to) {
      const at = this.#nextAmpersand;
      const semicolon = text.indexOf(';', at);
      if (semicolon === -1 || semicolon >= to || !REFERENCE.test(text.slice(at + 1, semicolon))) {
        throw new XmlSyntaxError(`Invalid entity reference ${describePlace(text, at)}.`);
      }
      this.#nextAmpersand = findOrEnd(text, '&', semicolon);
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

  /** Steps over an XML name at the current position and returns where it ends; `what` names it in the error. */
  #parseName(what: string): number {
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
    return pos;
  }
}

/** indexOf, with the text's length instead of -1, so "before `to`" is a single comparison. */
function findOrEnd(text: string, search: string, from: number): number {
  const at = text.indexOf(search, from);
  return at === -1 ? text.length : at;
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
