/**
 * A port-list setting (`scan.ports`, `scan.udp.ports`): an nmap port list, kept in its shortest form, or one of
 * the setting's two keywords. Neither keyword is a valid port list, so they never mix up; what each keyword
 * means is the scan plan's business (scan/scan-plan.ts).
 */
import { parsePortSpec, renderPortSpec } from '../net/port-spec.ts';
import type { Reader } from '../untyped/reader.ts';

export function readPortListSetting(
  reader: Reader,
  raw: unknown,
  path: string,
  keywords: readonly [string, string],
): string | undefined {
  // YAML reads `ports: 8080` as a number; it is still a port list.
  const text = typeof raw === 'number' ? String(raw) : reader.string(raw, path);
  if (text === undefined) return undefined;
  if (keywords.includes(text)) return text;
  const parsed = parsePortSpec(text);
  if (!parsed.ok)
    return reader.report(path, `${JSON.stringify(text)} ${parsed.reason} (or use ${keywords.join(' or ')})`);
  return renderPortSpec(parsed.ports);
}
