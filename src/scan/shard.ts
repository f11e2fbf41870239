/**
 * Sharding the targets over replicas (`--shard=I/N`): a replica keeps the addresses whose hash is I mod N.
 * The hash is of the address's canonical text, so an address stays on its replica for as long as N stays
 * the same, whatever else changes in the target list; together the N replicas scan every address once.
 *
 * A shard is a filter over the target ranges, never a list of addresses: building one (at every config
 * load) costs nothing, and the up to 16.7 M addresses are hashed only when a cycle counts or lists them.
 */
import type { Shard } from '../config/shard-setting.ts';
import { formatAddress } from '../net/addresses.ts';
import type { AddressRange, IpFamily, TargetSet } from '../net/addresses.ts';
import { generateRangeBlocks } from './cidr-blocks.ts';
import type { ScanTargets } from './types.ts';

const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const CHAR_DOT = 0x2e;
const CHAR_ZERO = 0x30;

function hashChar(hash: number, charCode: number): number {
  return Math.imul(hash ^ charCode, FNV_PRIME) >>> 0;
}

/** The replica an address belongs to: 32-bit FNV-1a of its canonical text, mod the number of replicas. */
export function shardOfAddress(canonicalAddress: string, count: number): number {
  let hash = FNV_OFFSET_BASIS;
  for (let i = 0; i < canonicalAddress.length; i += 1) hash = hashChar(hash, canonicalAddress.charCodeAt(i));
  return hash % count;
}

/** An octet's decimal digits, as formatAddress writes them (no leading zeros). */
function hashOctet(hash: number, octet: number): number {
  let next = hash;
  if (octet >= 100) next = hashChar(next, CHAR_ZERO + Math.floor(octet / 100));
  if (octet >= 10) next = hashChar(next, CHAR_ZERO + (Math.floor(octet / 10) % 10));
  return hashChar(next, CHAR_ZERO + (octet % 10));
}

/**
 * shardOfAddress for IPv4 addresses taken in ascending order, without writing them out: the hash of
 * "a.b.c." is kept while only the last octet changes, so most addresses cost one to three steps.
 */
class Ipv4ShardHasher {
  readonly #count: number;
  #prefix = -1;
  #prefixHash = 0;

  constructor(count: number) {
    this.#count = count;
  }

  shardOf(value: number): number {
    const prefix = Math.floor(value / 256);
    if (prefix !== this.#prefix) {
      this.#prefix = prefix;
      let hash = FNV_OFFSET_BASIS;
      for (const shift of [16, 8, 0]) hash = hashChar(hashOctet(hash, Math.floor(prefix / 2 ** shift) % 256), CHAR_DOT);
      this.#prefixHash = hash;
    }
    return hashOctet(this.#prefixHash, value % 256) % this.#count;
  }
}

/** The replica of an address given as a number; IPv6 is written out, its zero compression makes that simplest. */
export function shardOfValue(family: IpFamily, value: bigint, count: number): number {
  if (family === 4) return new Ipv4ShardHasher(count).shardOf(Number(value));
  return shardOfAddress(formatAddress(family, value), count);
}

/** This replica's part of the targets, as a filter: nothing is hashed until it is counted or listed. */
export function selectShard(targets: TargetSet, shard: Shard): ShardedTargets {
  return new ShardedTargets(targets, shard);
}

export class ShardedTargets implements ScanTargets {
  readonly #targets: TargetSet;
  readonly #shard: Shard;
  /** Counting a shard hashes every address; the set never changes, so each family is counted once. */
  readonly #counts = new Map<IpFamily, number>();

  constructor(targets: TargetSet, shard: Shard) {
    this.#targets = targets;
    this.#shard = shard;
  }

  count(): number {
    return this.countFamily(4) + this.countFamily(6);
  }

  countFamily(family: IpFamily): number {
    let count = this.#counts.get(family);
    if (count === undefined) {
      count = 0;
      for (const range of this.#rangesOf(family)) count += this.#countKept(range);
      this.#counts.set(family, count);
    }
    return count;
  }

  /** CIDR blocks over each run of consecutive kept addresses: the whole ranges when not sharded. */
  *nmapTargets(family: IpFamily): Generator<string> {
    for (const range of this.#rangesOf(family)) {
      for (const run of this.#keptRuns(range)) yield* generateRangeBlocks(run);
    }
  }

  /** Every kept address as text, IPv4 before IPv6, ascending, produced one at a time. */
  *addresses(): Generator<string> {
    for (const family of [4, 6] as const) {
      for (const range of this.#rangesOf(family)) {
        for (const run of this.#keptRuns(range)) {
          for (let value = run.first; value <= run.last; value++) yield formatAddress(family, value);
        }
      }
    }
  }

  #rangesOf(family: IpFamily): AddressRange[] {
    return this.#targets.ranges.filter((range) => range.family === family);
  }

  #countKept(range: AddressRange): number {
    if (this.#shard.count === 1) return Number(range.last - range.first + 1n);
    const { index, count } = this.#shard;
    let kept = 0;
    if (range.family === 4) {
      // IPv4 fits in a double, and number arithmetic is many times faster than bigint over 16.7 M addresses.
      const hasher = new Ipv4ShardHasher(count);
      for (let value = Number(range.first), last = Number(range.last); value <= last; value += 1) {
        if (hasher.shardOf(value) === index) kept += 1;
      }
      return kept;
    }
    for (let value = range.first; value <= range.last; value++) {
      if (shardOfValue(6, value, count) === index) kept += 1;
    }
    return kept;
  }

  /** The kept addresses of one range as maximal runs of consecutive addresses, ascending. */
  *#keptRuns(range: AddressRange): Generator<AddressRange> {
    if (this.#shard.count === 1) {
      yield range;
      return;
    }
    const { index, count } = this.#shard;
    const hasher = new Ipv4ShardHasher(count);
    const isKept = (value: bigint): boolean =>
      (range.family === 4 ? hasher.shardOf(Number(value)) : shardOfValue(6, value, count)) === index;
    let runFirst: bigint | undefined;
    for (let value = range.first; value <= range.last; value++) {
      if (isKept(value)) {
        runFirst ??= value;
      } else if (runFirst !== undefined) {
        yield { family: range.family, first: runFirst, last: value - 1n };
        runFirst = undefined;
      }
    }
    if (runFirst !== undefined) yield { family: range.family, first: runFirst, last: range.last };
  }
}
