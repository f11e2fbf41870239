/**
 * A writer of the Prometheus text format for gauge families, byte for byte as prom-client writes them, so the
 * snapshot's families are rendered once per snapshot instead of at every scrape (as kube-state-metrics does).
 */

export interface FamilyDefinition<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames?: readonly L[];
}

/** Adds one series; labels are written in the order the object lists them. */
export type SetSeries<L extends string> = (labels: Partial<Record<L, string | number>>, value: number) => void;

/** A gauge family whose series are all computed from `input` by `series`. */
export interface GaugeFamily<L extends string, I> extends FamilyDefinition<L> {
  readonly series: (input: I, set: SetSeries<L>) => void;
}

/**
 * One family: HELP, TYPE, its samples and the blank line that separates it from the next family, so that
 * written families followed by prom-client's `registry.metrics()` make the exposition prom-client alone would.
 * The same label set given twice keeps its first place and its last value, as prom-client's gauge does: two
 * samples with the same labels would make Prometheus reject the whole scrape.
 */
export function renderGaugeFamily<L extends string, I>(family: GaugeFamily<L, I>, input: I): string {
  return [...renderGaugeFamilyPieces(family, input)].join('');
}

/** Samples are joined into pieces of about this many characters. */
const PIECE_CHARS = 64 * 1024;

/**
 * The same text in pieces of about PIECE_CHARS, for a caller that turns each into bytes at once: at 20,000
 * hosts the families' text and the strings behind it would otherwise all be alive together, and V8 keeps
 * the heap it grew for them long after they are garbage.
 */
export function* renderGaugeFamilyPieces<L extends string, I>(family: GaugeFamily<L, I>, input: I): Generator<string> {
  const { name } = family;
  // A Map keeps a key's first place when it is set again: exactly the rule for a repeated label set.
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

/** Backslash, newline and double quote, as the text format requires; everything else (unicode too) is written as is. */
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
