/**
 * JSON.stringify's text in pieces, so a large document (the state file, the report --once prints) is written
 * out without ever being one string: at 20,000 hosts either is over 10 MB, and the string plus its encoded
 * copy cost more memory than the snapshot they are made from. The pieces joined are exactly the text of
 * JSON.stringify(value, null, indent).
 *
 * Arrays and plain objects are written member by member down to `depth` levels; a value below that (or any
 * other value: a Date, a string) is one JSON.stringify call. A generator stands for an array and is written
 * element by element as it yields, so a caller can render a long list one element at a time (JSON.stringify
 * itself would write a generator as {}).
 */

export interface PieceOptions {
  /** Spaces per level, as JSON.stringify's third argument; 0 writes compact JSON. */
  readonly indent: number;
  /** How many levels of arrays and objects are split into pieces. */
  readonly depth: number;
}

export function* stringifyInPieces(value: unknown, options: PieceOptions): Generator<string> {
  const level: Level = { gap: ' '.repeat(options.indent), margin: '', depthLeft: options.depth };
  const container = asContainer(value, level);
  if (container) {
    yield* writeContainer(container, level);
    return;
  }
  const text = writeLeaf(value, level);
  if (text === undefined) throw new TypeError('JSON.stringify would write nothing for this value');
  yield text;
}

interface Level {
  readonly gap: string;
  /** The indentation of the line the value starts on. */
  readonly margin: string;
  readonly depthLeft: number;
}

type Container = { kind: 'list'; items: Iterable<unknown> } | { kind: 'record'; entries: [string, unknown][] };

function* writeContainer(container: Container, level: Level): Generator<string> {
  const inner: Level = { gap: level.gap, margin: level.margin + level.gap, depthLeft: level.depthLeft - 1 };
  const open = level.gap === '' ? '' : `\n${inner.margin}`;
  const close = level.gap === '' ? '' : `\n${level.margin}`;
  const colon = level.gap === '' ? ':' : ': ';
  let first = true;
  if (container.kind === 'list') {
    for (const item of container.items) {
      yield first ? `[${open}` : `,${open}`;
      first = false;
      const nested = asContainer(item, inner);
      if (nested) yield* writeContainer(nested, inner);
      else yield writeLeaf(item, inner) ?? 'null';
    }
    yield first ? '[]' : `${close}]`;
    return;
  }
  for (const [key, member] of container.entries) {
    const nested = asContainer(member, inner);
    // A member JSON.stringify writes nothing for (undefined, a function) is left out, key and all.
    const text = nested ? undefined : writeLeaf(member, inner);
    if (!nested && text === undefined) continue;
    yield `${first ? '{' : ','}${open}${JSON.stringify(key)}${colon}`;
    first = false;
    if (nested) yield* writeContainer(nested, inner);
    else yield text as string;
  }
  yield first ? '{}' : `${close}}`;
}

function writeLeaf(value: unknown, level: Level): string | undefined {
  const text = JSON.stringify(value, null, level.gap) as string | undefined;
  if (text === undefined || level.margin === '') return text;
  // JSON.stringify indents from column 0; each raw newline in its text is one of its line breaks, since
  // newlines inside strings are escaped.
  return text.replaceAll('\n', `\n${level.margin}`);
}

/** The value as a container to split into pieces, or undefined when it is written whole. */
function asContainer(value: unknown, level: Level): Container | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  // At any depth: JSON.stringify cannot write a generator as the list it stands for.
  if (Object.prototype.toString.call(value) === '[object Generator]') return { kind: 'list', items: value as Iterable<unknown> };
  if (level.depthLeft <= 0) return undefined;
  if (Array.isArray(value)) return { kind: 'list', items: value };
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (prototype !== Object.prototype && prototype !== null) return undefined;
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return undefined;
  return { kind: 'record', entries: Object.entries(value) };
}
