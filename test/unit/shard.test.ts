import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildTargetSet, enumerateAddresses, formatAddress, parseTargetSpec } from '../../src/net/addresses.ts';
import type { IpFamily, TargetSet } from '../../src/net/addresses.ts';
import { renderCidrBlocks } from '../../src/targets/cidr-blocks.ts';
import { selectShard, shardOfAddress, shardOfValue } from '../../src/targets/shard.ts';
import { createRandom } from '../support/random.ts';

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

/** Every address a list of nmap target lines stands for, as text. */
function expandLines(lines: Iterable<string>): string[] {
  return [...lines].flatMap((line) => [...enumerateAddresses(setOf(line))]);
}

describe('selectShard', () => {
  const targets = setOf('10.0.0.0/22', '192.0.2.7', '2001:db8::/120');

  for (const count of [1, 2, 3, 5, 16]) {
    it(`gives each of ${count} replicas a disjoint part that together cover every target exactly once`, () => {
      const seen = new Map<string, number>();
      for (let index = 0; index < count; index += 1) {
        for (const address of selectShard(targets, { index, count }).addresses()) {
          seen.set(address, (seen.get(address) ?? 0) + 1);
        }
      }
      const all = [...enumerateAddresses(targets)];
      assert.equal(seen.size, all.length);
      assert.deepEqual(
        [...seen.values()].filter((times) => times !== 1),
        [],
      );
      assert.deepEqual(
        all.filter((address) => !seen.has(address)),
        [],
      );
    });
  }

  it('contains exactly the addresses it lists: inside the targets and in its shard', () => {
    for (const index of [0, 1, 2]) {
      const shard = selectShard(targets, { index, count: 3 });
      const listed = new Set(shard.addresses());
      const probes = [
        ...enumerateAddresses(setOf('10.0.0.0/23', '2001:db8::/124')),
        '10.0.4.1',
        '192.0.2.7',
        '192.0.2.8',
        'not an address',
      ];
      assert.deepEqual(
        probes.filter((ip) => shard.contains(ip)),
        probes.filter((ip) => listed.has(ip)),
      );
    }
    assert.equal(selectShard(targets, { index: 0, count: 1 }).contains('192.0.2.7'), true);
    assert.equal(selectShard(targets, { index: 0, count: 1 }).contains('192.0.2.8'), false);
  });

  it('spreads addresses evenly enough: each of 4 replicas gets within 15% of a quarter of 1,281 addresses', () => {
    const sizes = [0, 1, 2, 3].map((index) => selectShard(targets, { index, count: 4 }).count());
    assert.equal(
      sizes.reduce((a, b) => a + b, 0),
      1024 + 1 + 256,
    );
    for (const size of sizes) assert.ok(Math.abs(size - 1281 / 4) < 0.15 * (1281 / 4), `shard size ${size}`);
  });

  it('keeps an address on its replica when other targets are added or removed', () => {
    const before = selectShard(setOf('10.0.0.0/24'), { index: 1, count: 3 });
    const after = selectShard(setOf('10.0.0.0/24', '10.9.0.0/24', '192.0.2.0/28'), { index: 1, count: 3 });
    const kept = new Set(after.addresses());
    assert.deepEqual(
      [...before.addresses()].filter((address) => !kept.has(address)),
      [],
    );
  });

  it('hashes the canonical address text with 32-bit FNV-1a', () => {
    // FNV-1a("10.0.0.1") = 0xdebebe8d (computed independently, in Python, from the published algorithm).
    assert.equal(shardOfAddress('10.0.0.1', 2 ** 32 - 1), 0xdebebe8d);
  });

  it('keeps exactly the addresses whose canonical text hashes to its index, across octet boundaries', () => {
    const set = setOf('10.0.255.200-10.1.1.10', '2001:db8::fff0-2001:db8::1:10', '::ffff:10.0.0.250-::ffff:10.0.1.5');
    for (let index = 0; index < 3; index += 1) {
      const expected = [...enumerateAddresses(set)].filter((address) => shardOfAddress(address, 3) === index);
      assert.deepEqual([...selectShard(set, { index, count: 3 }).addresses()], expected);
    }
  });

  it('counts each family of its part, and the count matches the addresses it lists', () => {
    const shard = selectShard(targets, { index: 2, count: 3 });
    const listed = [...shard.addresses()];
    assert.equal(shard.countFamily(4), listed.filter((address) => !address.includes(':')).length);
    assert.equal(shard.countFamily(6), listed.filter((address) => address.includes(':')).length);
    assert.equal(shard.count(), listed.length);
  });

  it('hands nmap exactly its part, one family at a time, with adjacent kept addresses joined into blocks', () => {
    for (const family of [4, 6] as const) {
      const shard = selectShard(targets, { index: 0, count: 2 });
      const lines = [...shard.nmapTargets(family)];
      const expected = [...shard.addresses()].filter((address) => address.includes(':') === (family === 6));
      assert.deepEqual(expandLines(lines), expected);
      assert.ok(lines.length > 0 && lines.length <= expected.length);
    }
  });

  it('hands nmap the whole ranges as CIDR blocks when there is one replica', () => {
    const shard = selectShard(targets, { index: 0, count: 1 });
    for (const family of [4, 6] as const)
      assert.deepEqual([...shard.nmapTargets(family)], renderCidrBlocks(targets, family));
    assert.equal(shard.count(), targets.count);
  });

  it('hashes nothing until it is counted or listed, so a /8 shard is built at once', () => {
    const started = performance.now();
    const shard = selectShard(setOf('10.0.0.0/8'), { index: 0, count: 2 });
    assert.ok(performance.now() - started < 50, 'building a shard enumerates nothing');
    assert.equal(shard.nmapTargets(4).next().done, false);
  });

  it('counts a /12 shard by hashing, once: the second count is remembered', () => {
    const shard = selectShard(setOf('10.0.0.0/12'), { index: 1, count: 4 });
    const first = shard.count();
    assert.ok(Math.abs(first - 2 ** 18) < 0.01 * 2 ** 18, `count ${first}`);
    const started = performance.now();
    assert.equal(shard.count(), first);
    assert.ok(performance.now() - started < 5, 'the second count is not recomputed');
  });
});

describe('shardOfValue', () => {
  it('gives every address the replica its canonical text hashes to, without the text for IPv4', () => {
    const random = createRandom(20261201);
    const samples: [IpFamily, bigint][] = [
      [4, 0n],
      [4, 0xffffffffn],
      [4, 0x0a000001n],
      [4, 0x0a0a0a0an],
      [6, 0n],
      [6, 1n],
      [6, (1n << 128n) - 1n],
      [6, 0xffff_0a00_0001n],
      [6, 0x2001_0db8n << 96n],
    ];
    for (let i = 0; i < 2000; i += 1) samples.push([4, BigInt(random(2 ** 30)) * 4n + BigInt(random(4))]);
    for (let i = 0; i < 300; i += 1)
      samples.push([6, (0x2001_0db8n << 96n) + BigInt(random(2 ** 30)) * BigInt(random(2 ** 30))]);
    for (const [family, value] of samples) {
      for (const count of [2, 3, 7, 1024]) {
        const text = formatAddress(family, value);
        assert.equal(shardOfValue(family, value, count), shardOfAddress(text, count), `${text} of ${count}`);
      }
    }
  });
});
