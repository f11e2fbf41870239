/** The `exceptions` list: which open ports are approved, and until when. */
import { familyBits, parseTargetSpec } from '../net/addresses.ts';
import type { AddressRange } from '../net/addresses.ts';
import type { Validator } from '../validation/validator.ts';
import { renderValue } from '../validation/describe.ts';
import { parsePortProtocol } from './port-protocol.ts';

/** Every condition given must hold. */
export interface ExceptionMatchSetting {
  readonly tenant?: string;
  readonly vmName?: string;
  readonly ip?: AddressRange;
  readonly ports?: readonly string[];
}

export interface ExceptionSetting {
  readonly name: string;
  readonly match: ExceptionMatchSetting;
  readonly reason: string;
  /** The first moment the exception no longer holds. */
  readonly expiresAt: Date;
}

const EXCEPTION_KEYS = ['name', 'match', 'reason', 'expires'];
const MATCH_KEYS = ['tenant', 'vm_name', 'ip', 'ports'];

export function parseExceptionSettings(validator: Validator, raw: unknown): ExceptionSetting[] | undefined {
  const list = validator.list(raw, 'exceptions');
  if (!list) return undefined;
  const exceptions: ExceptionSetting[] = [];
  const firstIndexByName = new Map<string, number>();
  list.forEach((item, index) => {
    const path = `exceptions[${index}]`;
    const exception = parseExceptionSetting(validator, item, path);
    if (!exception) return;
    const earlier = firstIndexByName.get(exception.name);
    if (earlier !== undefined) {
      validator.report(`${path}.name`, `${JSON.stringify(exception.name)} is already used by exceptions[${earlier}]`);
      return;
    }
    firstIndexByName.set(exception.name, index);
    exceptions.push(exception);
  });
  return exceptions.length === list.length ? exceptions : undefined;
}

function parseExceptionSetting(validator: Validator, raw: unknown, path: string): ExceptionSetting | undefined {
  const entry = validator.mapping(raw, path, EXCEPTION_KEYS);
  if (!entry) return undefined;
  for (const key of EXCEPTION_KEYS) {
    if (entry[key] === undefined) validator.report(`${path}.${key}`, 'is required');
  }
  const name = entry['name'] === undefined ? undefined : validator.nonEmptyString(entry['name'], `${path}.name`);
  const reason =
    entry['reason'] === undefined ? undefined : validator.nonEmptyString(entry['reason'], `${path}.reason`);
  const expiresAt =
    entry['expires'] === undefined ? undefined : parseExpiry(validator, entry['expires'], `${path}.expires`);
  const match =
    entry['match'] === undefined ? undefined : parseExceptionMatch(validator, entry['match'], `${path}.match`);
  if (name === undefined || reason === undefined || expiresAt === undefined || !match) return undefined;
  return { name, match, reason, expiresAt };
}

function parseExceptionMatch(validator: Validator, raw: unknown, path: string): ExceptionMatchSetting | undefined {
  const entry = validator.mapping(raw, path, MATCH_KEYS);
  if (!entry) return undefined;
  // An empty match would except every open port of the cloud; that is never what anyone means.
  if (MATCH_KEYS.every((key) => entry[key] === undefined)) {
    return validator.report(path, `must name at least one of ${MATCH_KEYS.join(', ')}`);
  }
  let valid = true;
  const match: { -readonly [K in keyof ExceptionMatchSetting]: ExceptionMatchSetting[K] } = {};
  if (entry['tenant'] !== undefined) {
    const tenant = validator.nonEmptyString(entry['tenant'], `${path}.tenant`);
    if (tenant === undefined) valid = false;
    else match.tenant = tenant;
  }
  if (entry['vm_name'] !== undefined) {
    const vmName = validator.nonEmptyString(entry['vm_name'], `${path}.vm_name`);
    if (vmName === undefined) valid = false;
    else match.vmName = vmName;
  }
  if (entry['ip'] !== undefined) {
    const ip = validator.string(entry['ip'], `${path}.ip`);
    const parsed = ip === undefined ? undefined : parseTargetSpec(ip);
    if (parsed?.ok && coversWholeFamily(parsed.range)) {
      // Like an empty match, a /0 would silently except every open port of one address family.
      valid = false;
      validator.report(
        `${path}.ip`,
        `${JSON.stringify(ip)} covers every IPv${parsed.range.family} address (leave ip out to match any address)`,
      );
    } else if (parsed?.ok) match.ip = parsed.range;
    else {
      valid = false;
      if (parsed) validator.report(`${path}.ip`, `${JSON.stringify(ip)} ${parsed.reason}`);
    }
  }
  if (entry['ports'] !== undefined) {
    const ports = validator
      .list(entry['ports'], `${path}.ports`, ' of strings')
      ?.map((item, index) => parsePortProtocol(validator, item, `${path}.ports[${index}]`));
    // An empty list matches no port at all, so the exception would silently do nothing.
    if (ports?.length === 0)
      validator.report(`${path}.ports`, 'must list at least one port/protocol (leave ports out to match any port)');
    if (!ports || ports.length === 0 || ports.some((port) => port === undefined)) valid = false;
    else match.ports = ports as string[];
  }
  return valid ? match : undefined;
}

function coversWholeFamily(range: AddressRange): boolean {
  return range.first === 0n && range.last === (1n << familyBits(range.family)) - 1n;
}

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

/** A bare date holds through that whole UTC day, as people read `expires: 2027-01-31`; an RFC 3339 time is exact. */
function parseExpiry(validator: Validator, raw: unknown, path: string): Date | undefined {
  // YAML may hand over a Date when the file uses a timestamp-typed schema; accept it as the exact time.
  if (raw instanceof Date && !Number.isNaN(raw.getTime())) return raw;
  const text = typeof raw === 'string' ? raw : undefined;
  const dateOnly = text === undefined ? null : DATE_ONLY.exec(text);
  if (dateOnly) {
    const [year, month, day] = [Number(dateOnly[1]), Number(dateOnly[2]), Number(dateOnly[3])];
    const start = new Date(Date.UTC(year, month - 1, day));
    if (start.getUTCFullYear() === year && start.getUTCMonth() === month - 1 && start.getUTCDate() === day) {
      return new Date(start.getTime() + 24 * 3600 * 1000);
    }
  } else if (text !== undefined && RFC3339.test(text) && !Number.isNaN(Date.parse(text))) {
    return new Date(Date.parse(text));
  }
  return validator.report(path, `${renderValue(raw)} is not a date (YYYY-MM-DD) or an RFC 3339 time`);
}
