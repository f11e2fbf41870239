// Untyped data validated into typed values, with one wording: `Validator` collects every problem (files a person
// wrote), `StrictValidator` throws at the first (data a program wrote).
import { childPath, describeType, isPlainObject, renderValue } from './describe.ts';

export class Validator {
  readonly problems: string[] = [];

  report(path: string, message: string): undefined {
    this.problems.push(`${path}: ${message}`);
    return undefined;
  }

  /** An unknown key is reported, and the mapping still returned. */
  mapping(value: unknown, path: string, allowed: readonly string[]): Record<string, unknown> | undefined {
    if (!isPlainObject(value)) return this.report(path, `must be a mapping, got ${describeType(value)}`);
    for (const key of Object.keys(value)) {
      if (!allowed.includes(key))
        this.report(childPath(path, key), `unknown key (expected one of ${allowed.join(', ')})`);
    }
    return value;
  }

  anyMapping(value: unknown, path: string): Record<string, unknown> | undefined {
    if (!isPlainObject(value)) return this.report(path, `must be a mapping, got ${describeType(value)}`);
    return value;
  }

  list(value: unknown, path: string, of = ''): unknown[] | undefined {
    if (!Array.isArray(value)) return this.report(path, `must be a list${of}, got ${describeType(value)}`);
    return value;
  }

  string(value: unknown, path: string): string | undefined {
    if (typeof value !== 'string') return this.report(path, `must be a string, got ${describeType(value)}`);
    return value;
  }

  nonEmptyString(value: unknown, path: string): string | undefined {
    const text = this.string(value, path);
    if (text === '') return this.report(path, 'must not be empty');
    return text;
  }

  stringList(value: unknown, path: string): string[] | undefined {
    const list = this.list(value, path, ' of strings');
    if (!list) return undefined;
    const items: string[] = [];
    list.forEach((item, index) => {
      const text = this.string(item, `${path}[${index}]`);
      if (text !== undefined) items.push(text);
    });
    return items.length === list.length ? items : undefined;
  }

  boolean(value: unknown, path: string): boolean | undefined {
    if (typeof value !== 'boolean') return this.report(path, `${renderValue(value)} must be true or false`);
    return value;
  }

  integer(value: unknown, path: string, min: number, max: number): number | undefined {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      return this.report(path, `${renderValue(value)} must be an integer from ${min} to ${max}`);
    }
    return value;
  }

  oneOf<T extends string>(value: unknown, path: string, choices: readonly T[]): T | undefined {
    if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
      return this.report(path, `${renderValue(value)} must be one of ${choices.join(', ')}`);
    }
    return value as T;
  }
}

export type ProblemToError = (path: string, problem: string) => Error;

export class StrictValidator {
  readonly #toError: ProblemToError;

  constructor(toError: ProblemToError) {
    this.#toError = toError;
  }

  fail(path: string, problem: string): never {
    throw this.#toError(path, problem);
  }

  record(value: unknown, path: string): Record<string, unknown> {
    if (!isPlainObject(value)) this.fail(path, `not a JSON object, got ${describeType(value, { withValue: false })}`);
    return value;
  }

  list(value: unknown, path: string): unknown[] {
    if (!Array.isArray(value)) this.fail(path, `not a list, got ${describeType(value, { withValue: false })}`);
    return value;
  }

  string(value: unknown, path: string): string {
    if (typeof value !== 'string') this.fail(path, `not a string, got ${describeType(value, { withValue: false })}`);
    return value;
  }

  requiredString(value: unknown, path: string): string {
    if (typeof value !== 'string' || value === '') this.fail(path, 'missing');
    return value;
  }

  boolean(value: unknown, path: string): boolean {
    if (typeof value !== 'boolean')
      this.fail(path, `not true or false, got ${describeType(value, { withValue: false })}`);
    return value;
  }

  count(value: unknown, path: string): number {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
      this.fail(path, 'not a whole number from 0 up');
    return value;
  }

  oneOf<T extends string>(value: unknown, path: string, choices: readonly T[]): T {
    if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
      this.fail(path, `not one of ${choices.join(', ')}`);
    }
    return value as T;
  }

  /** An ISO 8601 / RFC 3339 time. */
  date(value: unknown, path: string): Date {
    const parsed = typeof value === 'string' ? new Date(value) : undefined;
    if (!parsed || Number.isNaN(parsed.getTime())) this.fail(path, 'not a time');
    return parsed;
  }
}
