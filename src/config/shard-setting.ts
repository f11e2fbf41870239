/** The shard setting (`scan.shard` or `--shard=I/N`), only validated here: targets/shard.ts picks the addresses. */

export interface Shard {
  readonly index: number;
  readonly count: number;
}

/** Enough for any fleet of replicas; a typo like 3/300000 is refused. */
const MAX_SHARDS = 1024;

export type ShardParse = { ok: true; shard: Shard } | { ok: false; reason: string };

export function parseShard(text: string): ShardParse {
  const match = /^(\d{1,4})\/(\d{1,4})$/.exec(text);
  if (!match) return { ok: false, reason: "is not I/N (this replica's index, from 0, and the number of replicas)" };
  const index = Number(match[1]);
  const count = Number(match[2]);
  if (count < 1 || count > MAX_SHARDS) return { ok: false, reason: `has ${count} replicas; use 1 to ${MAX_SHARDS}` };
  if (index >= count)
    return { ok: false, reason: `has index ${index}, which must be below the number of replicas (${count})` };
  return { ok: true, shard: { index, count } };
}
