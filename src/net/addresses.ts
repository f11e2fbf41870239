// Addresses and target specs (address, CIDR, `a-b` range) as bigint ranges, and their set arithmetic (pure);
// nothing is enumerated unless asked, so an IPv6 /64 is counted and refused at once.

export type IpFamily = 4 | 6;

/** Inclusive at both ends. */
export interface AddressRange {
  readonly family: IpFamily;
  readonly first: bigint;
  readonly last: bigint;
}

/** Sorted, merged, non-overlapping ranges after exclusion. */
export interface TargetSet {
  readonly ranges: readonly AddressRange[];
  readonly count: number;
}

export interface ParsedAddress {
  readonly family: IpFamily;
  readonly value: bigint;
}

export type TargetSpecResult = { ok: true; range: AddressRange } | { ok: false; reason: string };

const IPV4_OCTET = /^(?:0|[1-9][0-9]{0,2})$/;
const IPV6_GROUP = /^[0-9a-fA-F]{1,4}$/;
const PREFIX_LENGTH = /^(?:0|[1-9][0-9]{0,2})$/;
/** The top 96 bits of ::ffff:0:0/96, the IPv4-mapped block that RFC 5952 §5 renders in mixed notation. */
const IPV4_MAPPED_HIGH_BITS = 0xffffn;

export function familyBits(family: IpFamily): bigint {
  return family === 4 ? 32n : 128n;
}

export function parseAddress(text: string): ParsedAddress | undefined {
  // The family is decided by the colon, so "1.2.3.4" is IPv4 and "::1.2.3.4" is IPv6.
  if (text.includes(':')) {
    const value = parseIpv6(text);
    return value === undefined ? undefined : { family: 6, value };
  }
  const value = parseIpv4(text);
  return value === undefined ? undefined : { family: 4, value };
}

function parseIpv4(text: string): bigint | undefined {
  const octets = text.split('.');
  if (octets.length !== 4) return undefined;
  let value = 0n;
  for (const octet of octets) {
    // Leading zeros are refused because some resolvers read "010" as octal, so its meaning is ambiguous.
    if (!IPV4_OCTET.test(octet)) return undefined;
    const number = Number(octet);
    if (number > 255) return undefined;
    value = (value << 8n) | BigInt(number);
  }
  return value;
}

function parseIpv6(text: string): bigint | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const [head = '', tail] = halves;
  const compressed = tail !== undefined;
  const headGroups = parseIpv6Groups(head, !compressed);
  const tailGroups = compressed ? parseIpv6Groups(tail, true) : [];
  if (headGroups === undefined || tailGroups === undefined) return undefined;
  const explicit = headGroups.length + tailGroups.length;
  // "::" stands for at least one zero group; without it all eight must be written.
  if (compressed ? explicit > 7 : explicit !== 8) return undefined;
  const zeros = new Array<number>(8 - explicit).fill(0);
  let value = 0n;
  for (const group of [...headGroups, ...zeros, ...tailGroups]) value = (value << 16n) | BigInt(group);
  return value;
}

/** Colon-separated groups as 16-bit numbers; an IPv4 tail, allowed only at the very end, counts as two. */
function parseIpv6Groups(text: string, endsAddress: boolean): number[] | undefined {
  if (text === '') return [];
  const parts = text.split(':');
  const groups: number[] = [];
  for (const [index, part] of parts.entries()) {
    const isLast = index === parts.length - 1;
    if (isLast && endsAddress && part.includes('.')) {
      const ipv4 = parseIpv4(part);
      if (ipv4 === undefined) return undefined;
      groups.push(Number(ipv4 >> 16n), Number(ipv4 & 0xffffn));
    } else if (IPV6_GROUP.test(part)) {
      groups.push(Number.parseInt(part, 16));
    } else {
      return undefined;
    }
  }
  return groups;
}

export function formatAddress(family: IpFamily, value: bigint): string {
  return family === 4 ? formatIpv4(value) : formatIpv6(value);
}

function formatIpv4(value: bigint): string {
  return formatIpv4Number(Number(value));
}

/** An IPv4 address given as a plain number, for loops over millions of addresses where bigint is too slow. */
export function formatIpv4Number(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 0xff}.${(value >>> 8) & 0xff}.${value & 0xff}`;
}

function formatIpv6(value: bigint): string {
  if (value >> 32n === IPV4_MAPPED_HIGH_BITS) return `::ffff:${formatIpv4(value & 0xffffffffn)}`;
  const groups: number[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(Number((value >> shift) & 0xffffn));
  const run = findLongestZeroRun(groups);
  const texts = groups.map((group) => group.toString(16));
  if (run === undefined) return texts.join(':');
  const head = texts.slice(0, run.start).join(':');
  const tail = texts.slice(run.start + run.length).join(':');
  return `${head}::${tail}`;
}

/** RFC 5952 §4.2: compress the longest run of two or more zero groups, the first one on a tie. */
function findLongestZeroRun(groups: readonly number[]): { start: number; length: number } | undefined {
  let best: { start: number; length: number } | undefined;
  let start = -1;
  for (let index = 0; index <= groups.length; index++) {
    if (index < groups.length && groups[index] === 0) {
      if (start < 0) start = index;
      continue;
    }
    if (start >= 0) {
      const length = index - start;
      if (length >= 2 && (best === undefined || length > best.length)) best = { start, length };
      start = -1;
    }
  }
  return best;
}

export function parseTargetSpec(text: string): TargetSpecResult {
  if (text === '') return { ok: false, reason: 'is empty' };
  // A leading "-" would reach nmap as an option, so it is refused before any other reading of the text.
  if (text.startsWith('-')) return { ok: false, reason: 'must not start with "-"' };
  if (text.includes('/')) return parseCidr(text);
  if (text.includes('-')) return parseRange(text);
  const address = parseAddress(text);
  if (address === undefined) return { ok: false, reason: 'is not a valid IP address' };
  return { ok: true, range: { family: address.family, first: address.value, last: address.value } };
}

function parseCidr(text: string): TargetSpecResult {
  const invalid: TargetSpecResult = { ok: false, reason: 'is not a valid CIDR' };
  const parts = text.split('/');
  if (parts.length !== 2) return invalid;
  const [addressText = '', lengthText = ''] = parts;
  const address = parseAddress(addressText);
  if (address === undefined || !PREFIX_LENGTH.test(lengthText)) return invalid;
  const prefixLength = BigInt(lengthText);
  const bits = familyBits(address.family);
  if (prefixLength > bits) return invalid;
  // Host bits are allowed and mean the enclosing network, as nmap reads 10.0.0.5/24.
  const hostBits = bits - prefixLength;
  const first = (address.value >> hostBits) << hostBits;
  return { ok: true, range: { family: address.family, first, last: first + (1n << hostBits) - 1n } };
}

function parseRange(text: string): TargetSpecResult {
  const parts = text.split('-');
  const [firstText = '', lastText = ''] = parts;
  const first = parseAddress(firstText);
  const last = parseAddress(lastText);
  if (parts.length !== 2 || first === undefined || last === undefined) {
    return { ok: false, reason: 'is not a valid range' };
  }
  if (first.family !== last.family) {
    return { ok: false, reason: 'is not a valid range: both ends must be of the same address family' };
  }
  if (first.value > last.value) return { ok: false, reason: 'is not a valid range: start is after end' };
  return { ok: true, range: { family: first.family, first: first.value, last: last.value } };
}

export function compareAddresses(a: ParsedAddress, b: ParsedAddress): number {
  if (a.family !== b.family) return a.family - b.family;
  return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
}

function compareRanges(a: AddressRange, b: AddressRange): number {
  if (a.family !== b.family) return a.family - b.family;
  if (a.first === b.first) return 0;
  return a.first < b.first ? -1 : 1;
}

/** Ranges that overlap or merely touch are merged. */
export function mergeRanges(ranges: readonly AddressRange[]): AddressRange[] {
  const sorted = [...ranges].sort(compareRanges);
  const merged: AddressRange[] = [];
  for (const range of sorted) {
    const previous = merged.at(-1);
    if (previous !== undefined && previous.family === range.family && range.first <= previous.last + 1n) {
      if (range.last > previous.last) merged[merged.length - 1] = { ...previous, last: range.last };
    } else {
      merged.push({ family: range.family, first: range.first, last: range.last });
    }
  }
  return merged;
}

export function subtractRanges(ranges: readonly AddressRange[], exclude: readonly AddressRange[]): AddressRange[] {
  const targets = mergeRanges(ranges);
  const holes = mergeRanges(exclude);
  const result: AddressRange[] = [];
  // Both lists are sorted and disjoint, so one cursor over the holes serves every target range.
  let next = 0;
  for (const range of targets) {
    while (next < holes.length && isBefore(holes[next], range)) next++;
    let cursor = range.first;
    for (let index = next; index < holes.length && cursor <= range.last; index++) {
      const hole = holes[index];
      if (hole === undefined || hole.family !== range.family || hole.first > range.last) break;
      if (hole.first > cursor) result.push({ family: range.family, first: cursor, last: hole.first - 1n });
      cursor = hole.last + 1n;
    }
    if (cursor <= range.last) result.push({ family: range.family, first: cursor, last: range.last });
  }
  return result;
}

function isBefore(hole: AddressRange | undefined, range: AddressRange): boolean {
  if (hole === undefined) return false;
  return hole.family < range.family || (hole.family === range.family && hole.last < range.first);
}

/** Overlaps are counted once. */
export function countAddresses(ranges: readonly AddressRange[]): bigint {
  let count = 0n;
  for (const range of mergeRanges(ranges)) count += range.last - range.first + 1n;
  return count;
}

export function buildTargetSet(targets: readonly AddressRange[], exclude: readonly AddressRange[]): TargetSet {
  const ranges = subtractRanges(targets, exclude);
  const count = countAddresses(ranges);
  // The config refuses anything near this size long before; clamping keeps `count` an honest lower bound.
  const safeCount = count > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(count);
  return { ranges, count: safeCount };
}

export function setContains(set: TargetSet, family: IpFamily, value: bigint): boolean {
  let low = 0;
  let high = set.ranges.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const range = set.ranges[middle];
    if (range === undefined) return false;
    if (family < range.family || (family === range.family && value < range.first)) high = middle - 1;
    else if (family > range.family || value > range.last) low = middle + 1;
    else return true;
  }
  return false;
}

export function setContainsAddress(set: TargetSet, ip: string): boolean {
  const address = parseAddress(ip);
  return address !== undefined && setContains(set, address.family, address.value);
}

export function* enumerateAddresses(set: TargetSet): Generator<string> {
  for (const range of set.ranges) {
    for (let value = range.first; value <= range.last; value++) yield formatAddress(range.family, value);
  }
}
