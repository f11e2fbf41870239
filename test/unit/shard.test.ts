import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfigText } from '../../src/config/load.ts';
import { parseShard, selectShard, shardOfAddress } from '../../src/scan/shard.ts';
import { buildTargetSet, enumerateAddresses, parseTargetSpec } from '../../src/scan/targets.ts';
import type { TargetSet } from '../../src/scan/types.ts';

function setOf(...specs: string[]): TargetSet {
  return buildTargetSet(
    specs.map((spec) => {
      const parsed = parseTargetSpec(spec);
      if (!parsed.ok) throw new Error(spec);
      return parsed.range;
    }),
    [],
  );
}

describe('parseShard', () => {
  it('reads I/N and refuses an index past the count, zero replicas and other text', () => {
    assert.deepEqual(parseShard('0/1'), { ok: true, shard: { index: 0, count: 1 } });
    assert.deepEqual(parseShard('4/5'), { ok: true, shard: { index: 4, count: 5 } });
    assert.deepEqual(parseShard('5/5'), { ok: false, reason: 'has index 5, which must be below the number of replicas (5)' });
    assert.deepEqual(parseShard('0/0'), { ok: false, reason: 'has 0 replicas; use 1 to 1024' });
    assert.deepEqual(parseShard('0/2000'), { ok: false, reason: 'has 2000 replicas; use 1 to 1024' });
    assert.equal(parseShard('-1/2').ok, false);
    assert.equal(parseShard('1 / 2').ok, false);
  });
});

describe('selectShard', () => {
  const targets = setOf('10.0.0.0/22', '192.0.2.7', '2001:db8::/120');

  for (const count of [1, 2, 3, 5, 16]) {
    it(`gives each of ${count} replicas a disjoint part that together cover every target exactly once`, () => {
      const seen = new Map<string, number>();
      for (let index = 0; index < count; index += 1) {
        for (const address of enumerateAddresses(selectShard(targets, { index, count }))) {
          seen.set(address, (seen.get(address) ?? 0) + 1);
        }
      }
      const all = [...enumerateAddresses(targets)];
      assert.equal(seen.size, all.length);
      assert.deepEqual([...seen.values()].filter((times) => times !== 1), []);
      assert.deepEqual(all.filter((address) => !seen.has(address)), []);
    });
  }

  it('spreads addresses evenly enough: each of 4 replicas gets within 15% of a quarter of 1,281 addresses', () => {
    const sizes = [0, 1, 2, 3].map((index) => selectShard(targets, { index, count: 4 }).count);
    assert.equal(sizes.reduce((a, b) => a + b, 0), 1024 + 1 + 256);
    for (const size of sizes) assert.ok(Math.abs(size - 1281 / 4) < 0.15 * (1281 / 4), `shard size ${size}`);
  });

  it('keeps an address on its replica when other targets are added or removed', () => {
    const before = selectShard(setOf('10.0.0.0/24'), { index: 1, count: 3 });
    const after = selectShard(setOf('10.0.0.0/24', '10.9.0.0/24', '192.0.2.0/28'), { index: 1, count: 3 });
    const kept = new Set(enumerateAddresses(after));
    assert.deepEqual([...enumerateAddresses(before)].filter((address) => !kept.has(address)), []);
  });

  it('hashes the canonical address text with 32-bit FNV-1a', () => {
    // FNV-1a("10.0.0.1") = 0xdebebe8d (computed independently, in Python, from the published algorithm).
    assert.equal(shardOfAddress('10.0.0.1', 2 ** 32 - 1), 0xdebebe8d);
  });
});

describe('scan.shard in the config', () => {
  it('keeps this replica\'s targets and the count of all of them, and the command line wins', () => {
    const config = parseConfigText('scan:\n  targets: ["10.0.0.0/24"]\n  shard: "1/2"\n', 'c.yml');
    assert.deepEqual(config.scan.shard, { index: 1, count: 2 });
    assert.equal(config.scan.allTargetsCount, 256);
    assert.equal(config.scan.targets.count, selectShard(config.scan.targets, { index: 0, count: 1 }).count);
    const other = parseConfigText('scan:\n  targets: ["10.0.0.0/24"]\n  shard: "1/2"\n', 'c.yml', { shard: { index: 0, count: 2 } });
    assert.equal(other.scan.targets.count + config.scan.targets.count, 256);
  });

  it('names a bad shard with its path', () => {
    assert.throws(() => parseConfigText('scan:\n  shard: "2/2"\n', 'c.yml'), {
      message: 'c.yml: scan.shard: "2/2" has index 2, which must be below the number of replicas (2)',
    });
  });
});
