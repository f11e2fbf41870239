/**
 * Sharding the targets over replicas (`--shard=I/N`): a replica keeps the addresses whose hash is I mod N.
 * The hash is of the address's canonical text, so an address stays on its replica for as long as N stays
 * the same, whatever else changes in the target list; together the N replicas scan every address once.
 */
import { buildTargetSet, enumerateAddresses, parseAddress } from './targets.ts';
import type { AddressRange, TargetSet } from './types.ts';

export interface Shard {
  readonly index: number;
  readonly count: number;
}

export const NO_SHARDING: Shard = { index: 0, count: 1 };

/** Enough for any fleet of replicas; a typo like 3/300000 is refused. */
const MAX_SHARDS = 1024;

export type ShardParse = { ok: true; shard: Shard } | { ok: false; reason: string };

/** `I/N` with 0 <= I < N. */
export function parseShard(text: string): ShardParse {
  const match = /^(\d{1,4})\/(\d{1,4})$/.exec(text);
  if (!match) return { ok: false, reason: 'is not I/N (this replica\'s index, from 0, and the number of replicas)' };
  const index = Number(match[1]);
  const count = Number(match[2]);
  if (count < 1 || count > MAX_SHARDS) return { ok: false, reason: `has ${count} replicas; use 1 to ${MAX_SHARDS}` };
  if (index >= count) return { ok: false, reason: `has index ${index}, which must be below the number of replicas (${count})` };
  return { ok: true, shard: { index, count } };
}

/** The replica an address belongs to: 32-bit FNV-1a of its canonical text, mod the number of replicas. */
export function shardOfAddress(canonicalAddress: string, count: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < canonicalAddress.length; i += 1) {
    hash ^= canonicalAddress.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % count;
}

/** This replica's part of the targets. One replica keeps the set as it is. */
export function selectShard(targets: TargetSet, shard: Shard): TargetSet {
  if (shard.count === 1) return targets;
  const kept: AddressRange[] = [];
  for (const address of enumerateAddresses(targets)) {
    if (shardOfAddress(address, shard.count) !== shard.index) continue;
    const parsed = parseAddress(address);
    if (parsed) kept.push({ family: parsed.family, first: parsed.value, last: parsed.value });
  }
  return buildTargetSet(kept, []);
}
