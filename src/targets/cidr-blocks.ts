// nmap's target list: ranges as the fewest aligned CIDR blocks, none reaching outside its range.
import { familyBits, formatAddress } from '../net/addresses.ts';
import type { AddressRange, IpFamily, TargetSet } from '../net/addresses.ts';

export function renderCidrBlocks(set: TargetSet, family: IpFamily): string[] {
  return set.ranges.filter((range) => range.family === family).flatMap((range) => [...generateRangeBlocks(range)]);
}

export function* generateRangeBlocks(range: AddressRange): Generator<string> {
  const bits = familyBits(range.family);
  let start = range.first;
  while (start <= range.last) {
    const hostBits = findLargestBlockBits(start, range.last - start + 1n, bits);
    const address = formatAddress(range.family, start);
    yield hostBits === 0n ? address : `${address}/${bits - hostBits}`;
    start += 1n << hostBits;
  }
}

function findLargestBlockBits(start: bigint, size: bigint, bits: bigint): bigint {
  let hostBits = 0n;
  while (hostBits < bits && ((start >> hostBits) & 1n) === 0n && 1n << (hostBits + 1n) <= size) hostBits++;
  return hostBits;
}
