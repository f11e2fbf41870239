// `--shard=I/N`: a replica keeps the addresses whose canonical text hashes (FNV-1a) to I mod N. A filter,
// never a list: addresses are hashed only when a cycle counts or lists them.
import type { Shard } from '../config/shard-setting.ts';
import { formatAddress, formatIpv4Number, parseAddress, setContainsAddress } from '../net/addresses.ts';
import type { AddressRange, IpFamily, TargetSet } from '../net/addresses.ts';
import { generateRangeBlocks } from './cidr-blocks.ts';
import type { ScanTargets } from './scan-targets.ts';

const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const CHAR_DOT = 0x2e;
const CHAR_ZERO = 0x30;

// The hash is carried as a signed 32-bit integer, which V8 keeps in a register; unsigned only for the modulo.
function hashChar(hash: number, charCode: number): number {
  return Math.imul(hash ^ charCode, FNV_PRIME);
}

function shardOfHash(hash: number, count: number): number {
  return (hash >>> 0) % count;
}

export function shardOfAddress(canonicalAddress: string, count: number): number {
  let hash = FNV_OFFSET_BASIS | 0;
  for (let i = 0; i < canonicalAddress.length; i += 1) hash = hashChar(hash, canonicalAddress.charCodeAt(i));
  return shardOfHash(hash, count);
}

function hashOctet(hash: number, octet: number): number {
  let next = hash;
  if (octet >= 100) next = hashChar(next, CHAR_ZERO + ((octet / 100) | 0));
  if (octet >= 10) next = hashChar(next, CHAR_ZERO + (((octet / 10) | 0) % 10));
  return hashChar(next, CHAR_ZERO + (octet % 10));
}

// The hash of "a.b.c." is shared by a /24, so each address costs only its last octet's digits: no text is written.
function hashIpv4Prefix(block: number): number {
  let hash = FNV_OFFSET_BASIS | 0;
  hash = hashChar(hashOctet(hash, (block >>> 16) & 0xff), CHAR_DOT);
  hash = hashChar(hashOctet(hash, (block >>> 8) & 0xff), CHAR_DOT);
  return hashChar(hashOctet(hash, block & 0xff), CHAR_DOT);
}

// IPv6 is written out as text: its zero compression makes that simplest.
export function shardOfValue(family: IpFamily, value: bigint, count: number): number {
  if (family === 6) return shardOfAddress(formatAddress(family, value), count);
  const number = Number(value);
  return shardOfHash(hashOctet(hashIpv4Prefix(number >>> 8), number & 0xff), count);
}

// Plain numbers, no allocation per address: 16.7 M addresses take a fraction of a second, bigints many.
function countKeptIpv4(range: AddressRange, shard: Shard): number {
  const first = Number(range.first);
  const last = Number(range.last);
  let kept = 0;
  for (let block = first >>> 8; block <= last >>> 8; block += 1) {
    const prefixHash = hashIpv4Prefix(block);
    const high = Math.min(last, block * 256 + 255);
    for (let value = Math.max(first, block * 256); value <= high; value += 1) {
      if (shardOfHash(hashOctet(prefixHash, value & 0xff), shard.count) === shard.index) kept += 1;
    }
  }
  return kept;
}

// One generator from hash to text, as each layer of generators costs as much as the hashing.
function* keptIpv4Lines(range: AddressRange, shard: Shard): Generator<string> {
  const first = Number(range.first);
  const last = Number(range.last);
  let runFirst = -1;
  let runLast = -2;
  for (let block = first >>> 8; block <= last >>> 8; block += 1) {
    const prefixHash = hashIpv4Prefix(block);
    const high = Math.min(last, block * 256 + 255);
    for (let value = Math.max(first, block * 256); value <= high; value += 1) {
      if (shardOfHash(hashOctet(prefixHash, value & 0xff), shard.count) !== shard.index) continue;
      if (value === runLast + 1) {
        runLast = value;
        continue;
      }
      if (runFirst === runLast) yield formatIpv4Number(runFirst);
      else if (runFirst >= 0) yield* generateRangeBlocks({ family: 4, first: BigInt(runFirst), last: BigInt(runLast) });
      runFirst = value;
      runLast = value;
    }
  }
  if (runFirst === runLast) yield formatIpv4Number(runFirst);
  else if (runFirst >= 0) yield* generateRangeBlocks({ family: 4, first: BigInt(runFirst), last: BigInt(runLast) });
}

// Over bigints: IPv6 targets are rarely large.
function* keptIpv6Runs(range: AddressRange, shard: Shard): Generator<AddressRange> {
  let runFirst: bigint | undefined;
  for (let value = range.first; value <= range.last; value++) {
    if (shardOfValue(6, value, shard.count) === shard.index) {
      runFirst ??= value;
    } else if (runFirst !== undefined) {
      yield { family: 6, first: runFirst, last: value - 1n };
      runFirst = undefined;
    }
  }
  if (runFirst !== undefined) yield { family: 6, first: runFirst, last: range.last };
}

export function selectShard(targets: TargetSet, shard: Shard): ShardedTargets {
  return new ShardedTargets(targets, shard);
}

export class ShardedTargets implements ScanTargets {
  readonly #targets: TargetSet;
  readonly #shard: Shard;
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

  contains(address: string): boolean {
    const parsed = parseAddress(address);
    if (!parsed || !setContainsAddress(this.#targets, address)) return false;
    return (
      this.#shard.count === 1 || shardOfValue(parsed.family, parsed.value, this.#shard.count) === this.#shard.index
    );
  }

  *nmapTargets(family: IpFamily): Generator<string> {
    for (const range of this.#rangesOf(family)) {
      if (this.#shard.count === 1) yield* generateRangeBlocks(range);
      else if (family === 4) yield* keptIpv4Lines(range, this.#shard);
      else for (const run of keptIpv6Runs(range, this.#shard)) yield* generateRangeBlocks(run);
    }
  }

  /** Address by address through shardOfValue, not the fast paths above, so each can check the other. */
  *addresses(): Generator<string> {
    const { index, count } = this.#shard;
    for (const range of this.#targets.ranges) {
      for (let value = range.first; value <= range.last; value++) {
        if (count === 1 || shardOfValue(range.family, value, count) === index) yield formatAddress(range.family, value);
      }
    }
  }

  #rangesOf(family: IpFamily): AddressRange[] {
    return this.#targets.ranges.filter((range) => range.family === family);
  }

  #countKept(range: AddressRange): number {
    if (this.#shard.count === 1) return Number(range.last - range.first + 1n);
    if (range.family === 4) return countKeptIpv4(range, this.#shard);
    let kept = 0;
    for (const run of keptIpv6Runs(range, this.#shard)) kept += Number(run.last - run.first + 1n);
    return kept;
  }
}
