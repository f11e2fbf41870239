/** A `port/protocol` key (`22/tcp`) as config keys and lists write it. */
import { parsePortKey } from '../net/port-spec.ts';
import type { Validator } from '../validation/validator.ts';

export function parsePortProtocol(validator: Validator, value: unknown, path: string): string | undefined {
  const text = validator.string(value, path);
  if (text === undefined) return undefined;
  return parsePortKey(text) ?? validator.report(path, `${JSON.stringify(text)} is not a port/protocol such as 22/tcp`);
}
