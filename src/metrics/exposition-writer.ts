// The Prometheus text format for gauge families, byte for byte as prom-client writes it, so the snapshot's
// families are rendered once per snapshot instead of at every scrape (as kube-state-metrics does).

export interface FamilyDefinition<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames?: readonly L[];
}

/** Adds one series; labels are written in the order the object lists them. */
export type SetSeries<L extends string> = (labels: Partial<Record<L, string | number>>, value: number) => void;

export interface GaugeFamily<L extends string, I> extends FamilyDefinition<L> {
  readonly series: (input: I, set: SetSeries<L>) => void;
}

/** Ends in a blank line, so written families followed by prom-client's `registry.metrics()` read as one exposition. */
export function renderGaugeFamily<L extends string, I>(family: GaugeFamily<L, I>, input: I): string {
  return [...renderGaugeFamilyPieces(family, input)].join('');
}

const PIECE_CHARS = 64 * 1024;

// In pieces of about PIECE_CHARS for a caller that turns each into bytes at once: at 20,000 hosts the whole text
// would otherwise be alive together, and V8 keeps the heap it grew long after it is garbage.
export function* renderGaugeFamilyPieces<L extends string, I>(family: GaugeFamily<L, I>, input: I): Generator<string> {
  const { name } = family;
  // A repeated label set keeps its first place and last value, as in prom-client (a Map does just that): two samples
  // with the same labels would make Prometheus reject the whole scrape.
  const values = new Map<string, number>();
  family.series(input, (labels, value) => {
    values.set(renderLabels(labels), value);
  });
  let piece = `# HELP ${name} ${escapeHelp(family.help)}\n# TYPE ${name} gauge\n`;
  for (const [labels, value] of values) {
    piece += `${name}${labels} ${formatSampleValue(value)}\n`;
    if (piece.length >= PIECE_CHARS) {
      yield piece;
      piece = '';
    }
  }
  yield `${piece}\n`;
}

function renderLabels(labels: Readonly<Record<string, string | number | undefined>>): string {
  const parts: string[] = [];
  for (const name in labels) {
    const value = labels[name];
    parts.push(`${name}="${typeof value === 'string' ? escapeLabelValue(value) : String(value)}"`);
  }
  // Joined rather than appended, so the Map key is one flat string, not a chain of the pieces.
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

const LABEL_ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '\n': '\\n', '"': '\\"' };
const NEEDS_LABEL_ESCAPE = /[\\\n"]/;
const HELP_ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '\n': '\\n' };

/** Backslash, newline and double quote, as the text format requires; unicode is written as is. */
export function escapeLabelValue(value: string): string {
  // Most values need no escape; testing first spares building a copy of each.
  return NEEDS_LABEL_ESCAPE.test(value) ? value.replace(/[\\\n"]/g, (char) => LABEL_ESCAPES[char]!) : value;
}

/** HELP text escapes only backslash and newline: a quote needs no escape outside a label value. */
export function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (char) => HELP_ESCAPES[char]!);
}

/** JavaScript's shortest round-trip form; the non-finite values spelt as prom-client spells them ("Nan" included). */
export function formatSampleValue(value: number): string {
  if (Number.isNaN(value)) return 'Nan';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}
