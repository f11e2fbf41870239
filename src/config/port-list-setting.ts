// A port-list setting (`scan.ports`, `scan.udp.ports`): an nmap port list in its shortest form, or one of two
// keywords, which no port list can be; what the keywords mean is decided in targets/scan-plan.ts.
import { parsePortSpec, renderPortSpec } from '../net/port-spec.ts';
import type { Validator } from '../validation/validator.ts';

export function parsePortListSetting(
  validator: Validator,
  raw: unknown,
  path: string,
  keywords: readonly [string, string],
): string | undefined {
  // YAML reads `ports: 8080` as a number; it is still a port list.
  const text = typeof raw === 'number' ? String(raw) : validator.string(raw, path);
  if (text === undefined) return undefined;
  if (keywords.includes(text)) return text;
  const parsed = parsePortSpec(text);
  if (!parsed.ok)
    return validator.report(path, `${JSON.stringify(text)} ${parsed.reason} (or use ${keywords.join(' or ')})`);
  return renderPortSpec(parsed.ports);
}
