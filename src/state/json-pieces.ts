// JSON.stringify's exact text in pieces, never one string; a generator is written as a list (docs/design-notes.md).

export interface PieceOptions {
  /** Spaces per level, as JSON.stringify's third argument; 0 writes compact JSON. */
  readonly indent: number;
}

export function* stringifyInPieces(value: unknown, options: PieceOptions): Generator<string> {
  // No gap at all rather than an empty one for compact JSON: V8 then keeps its fast serializer.
  const level: Level = { gap: options.indent > 0 ? ' '.repeat(options.indent) : undefined, margin: '' };
  const container = asContainer(value);
  if (container) {
    yield* writeContainer(container, level);
    return;
  }
  const text = writeWhole(value, level);
  if (text === undefined) throw new TypeError('JSON.stringify would write nothing for this value');
  yield text;
}

interface Level {
  readonly gap: string | undefined;
  /** The indentation of the line the value starts on. */
  readonly margin: string;
}

type Container = { kind: 'list'; items: Iterable<unknown> } | { kind: 'record'; entries: [string, unknown][] };

function* writeContainer(container: Container, level: Level): Generator<string> {
  const inner: Level = { gap: level.gap, margin: level.margin + (level.gap ?? '') };
  const open = level.gap === undefined ? '' : `\n${inner.margin}`;
  const close = level.gap === undefined ? '' : `\n${level.margin}`;
  const colon = level.gap === undefined ? ':' : ': ';
  let first = true;
  if (container.kind === 'list') {
    for (const item of container.items) {
      yield `${first ? '[' : ','}${open}${writeWhole(item, inner) ?? 'null'}`;
      first = false;
    }
    yield first ? '[]' : `${close}]`;
    return;
  }
  for (const [key, member] of container.entries) {
    const nested = asContainer(member);
    // A member JSON.stringify writes nothing for (undefined, a function) is left out, key and all.
    const text = nested ? '' : writeWhole(member, inner);
    if (text === undefined) continue;
    yield `${first ? '{' : ','}${open}${JSON.stringify(key)}${colon}${text}`;
    first = false;
    if (nested) yield* writeContainer(nested, inner);
  }
  yield first ? '{}' : `${close}}`;
}

function writeWhole(value: unknown, level: Level): string | undefined {
  if (Object.prototype.toString.call(value) === '[object Generator]') {
    return [...writeContainer({ kind: 'list', items: value as Iterable<unknown> }, level)].join('');
  }
  const text = (level.gap === undefined ? JSON.stringify(value) : JSON.stringify(value, null, level.gap)) as
    | string
    | undefined;
  if (text === undefined || level.gap === undefined || level.margin === '') return text;
  // JSON.stringify indents from column 0; every raw newline is a line break, as newlines in strings are escaped.
  return text.replaceAll('\n', `\n${level.margin}`);
}

function asContainer(value: unknown): Container | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  if (Array.isArray(value)) return { kind: 'list', items: value };
  if (Object.prototype.toString.call(value) === '[object Generator]')
    return { kind: 'list', items: value as Iterable<unknown> };
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (prototype !== Object.prototype && prototype !== null) return undefined;
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return undefined;
  return { kind: 'record', entries: Object.entries(value) };
}
