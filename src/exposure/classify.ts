// Sorts open ports into standard, excepted (a live exception matches) and nonstandard (with a severity). Pure:
// the time is a parameter, so an exception stops matching at exactly its expiry.
import { parseAddress } from '../net/addresses.ts';
import type { AddressRange } from '../net/addresses.ts';
import { portKey } from '../net/port-spec.ts';
import type { ObservedPort } from '../scan/types.ts';
import type { AddressOwner } from '../inventory/inventory.ts';
import { serviceSeverity } from './service-severity.ts';
import { moreSevere, severityOf } from './severity.ts';
import type { Severity, SeverityTable } from './severity.ts';

export type PortClass = 'standard' | 'excepted' | 'nonstandard';

/** Every condition given must hold. */
export interface ExceptionMatch {
  readonly tenant?: string;
  /** A shell-style pattern (`*`, `?`) over the whole VM name. */
  readonly vmName?: string;
  readonly ip?: AddressRange;
  /** `port/protocol` keys. */
  readonly ports?: readonly string[];
}

export interface PortException {
  readonly name: string;
  readonly match: ExceptionMatch;
  readonly reason: string;
  readonly expiresAt: Date;
}

export interface ClassificationRules {
  readonly standardPorts: ReadonlySet<string>;
  readonly severities: SeverityTable;
  /** Ports severity_overrides sets: the operator's word stands, also over what verification finds there. */
  readonly overriddenPorts?: ReadonlySet<string> | undefined;
  readonly exceptions: readonly PortException[];
}

export interface Classification {
  readonly class: PortClass;
  /** Set for nonstandard ports only. */
  readonly severity: Severity | null;
  /** The matching exception's name, for excepted ports only. */
  readonly exception: string | null;
}

export function classifyPort(
  rules: ClassificationRules,
  target: { ip: string; owner: AddressOwner; port: ObservedPort },
  now: Date,
): Classification {
  const key = portKey(target.port.port, target.port.protocol);
  if (rules.standardPorts.has(key)) return { class: 'standard', severity: null, exception: null };
  const exception = rules.exceptions.find((candidate) =>
    exceptionApplies(candidate, target.ip, target.owner, key, now),
  );
  if (exception) return { class: 'excepted', severity: null, exception: exception.name };
  return { class: 'nonstandard', severity: rateOpenPort(rules, target.port, key), exception: null };
}

/** The port number's level, raised to the detected service's when verification found a more severe one. */
function rateOpenPort(rules: ClassificationRules, port: ObservedPort, key: string): Severity {
  const byNumber = severityOf(rules.severities, port.port, port.protocol);
  if (!port.detected || rules.overriddenPorts?.has(key)) return byNumber;
  const byService = serviceSeverity(port.detected);
  return byService ? moreSevere(byNumber, byService) : byNumber;
}

export function exceptionApplies(
  exception: PortException,
  ip: string,
  owner: AddressOwner,
  key: string,
  now: Date,
): boolean {
  const { match } = exception;
  if (now.getTime() >= exception.expiresAt.getTime()) return false;
  if (match.tenant !== undefined && match.tenant !== owner.tenant && match.tenant !== owner.tenantId) return false;
  if (match.vmName !== undefined && !matchesGlob(match.vmName, owner.vmName)) return false;
  if (match.ports !== undefined && !match.ports.includes(key)) return false;
  if (match.ip !== undefined) {
    const address = parseAddress(ip);
    const range = match.ip;
    const inside = address?.family === range.family && address.value >= range.first && address.value <= range.last;
    if (!inside) return false;
  }
  return true;
}

export function matchesGlob(pattern: string, text: string): boolean {
  const regex = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${regex}$`, 's').test(text);
}
