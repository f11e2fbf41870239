/** A `port/protocol` key (`22/tcp`) as config keys and lists write it. */
import { parsePortKey } from '../net/port-spec.ts';
import type { Reader } from '../untyped/reader.ts';

export function readPortProtocol(reader: Reader, value: unknown, path: string): string | undefined {
  const text = reader.string(value, path);
  if (text === undefined) return undefined;
  return parsePortKey(text) ?? reader.report(path, `${JSON.stringify(text)} is not a port/protocol such as 22/tcp`);
}
