/**
 * nmap's target list: ranges written as the fewest aligned CIDR blocks, one per stdin line. A block never
 * reaches outside its range, so nmap scans exactly the addresses it was given.
 */
import { familyBits, formatAddress } from '../net/addresses.ts';
import type { AddressRange, IpFamily, TargetSet } from '../net/addresses.ts';

/** The blocks covering exactly the set's ranges of `family`, ascending; a block of one address is written bare. */
export function renderCidrBlocks(set: TargetSet, family: IpFamily): string[] {
  return set.ranges.filter((range) => range.family === family).flatMap((range) => [...generateRangeBlocks(range)]);
}

/** The blocks covering exactly one range, ascending, produced one at a time. */
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

/** Host bits of the largest block that starts at `start`, is aligned on its size, and fits in `size`. */
function findLargestBlockBits(start: bigint, size: bigint, bits: bigint): bigint {
  let hostBits = 0n;
  while (hostBits < bits && ((start >> hostBits) & 1n) === 0n && 1n << (hostBits + 1n) <= size) hostBits++;
  return hostBits;
}
