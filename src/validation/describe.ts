/** How untyped values (parsed YAML or JSON) are named in messages, so every reader's problems read alike. */

/** Not null, not a list, and not a YAML timestamp (which the parser hands over as a Date). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/** `withValue: false` leaves the value out, for settings that may be secret (a password YAML read as a number). */
export function describeType(value: unknown, options: { readonly withValue?: boolean } = {}): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (isPlainObject(value)) return 'a mapping';
  const kind = typeof value === 'string' ? 'a string' : typeof value === 'number' ? 'a number' : typeof value;
  if (options.withValue === false) return kind;
  return `${kind} (${typeof value === 'string' ? JSON.stringify(value) : String(value)})`;
}

export function renderValue(value: unknown, options: { readonly withValue?: boolean } = {}): string {
  if (options.withValue === false) return describeType(value, options);
  return typeof value === 'string' ? JSON.stringify(value) : describeType(value);
}

// Keys such as `my-cloud` are written bare, as YAML users write them; anything else is quoted.
const SIMPLE_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

export function childPath(parent: string, key: string): string {
  const prefix = parent === '(root)' ? '' : parent;
  if (SIMPLE_KEY.test(key)) return prefix === '' ? key : `${prefix}.${key}`;
  return `${prefix}[${JSON.stringify(key)}]`;
}
