import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfigText } from '../../src/config/load.ts';
import { parseShard } from '../../src/config/shard-setting.ts';

describe('parseShard', () => {
  it('reads I/N and refuses an index past the count, zero replicas and other text', () => {
    assert.deepEqual(parseShard('0/1'), { ok: true, shard: { index: 0, count: 1 } });
    assert.deepEqual(parseShard('4/5'), { ok: true, shard: { index: 4, count: 5 } });
    assert.deepEqual(parseShard('5/5'), {
      ok: false,
      reason: 'has index 5, which must be below the number of replicas (5)',
    });
    assert.deepEqual(parseShard('0/0'), { ok: false, reason: 'has 0 replicas; use 1 to 1024' });
    assert.deepEqual(parseShard('0/2000'), { ok: false, reason: 'has 2000 replicas; use 1 to 1024' });
    assert.equal(parseShard('-1/2').ok, false);
    assert.equal(parseShard('1 / 2').ok, false);
  });
});

describe('scan.shard in the config', () => {
  it('keeps the shard and the targets of all replicas, and the command line wins', () => {
    const config = parseConfigText('scan:\n  targets: ["10.0.0.0/24"]\n  shard: "1/2"\n', 'c.yml');
    assert.deepEqual(config.scan.shard, { index: 1, count: 2 });
    assert.equal(config.scan.targets.count, 256);
    const other = parseConfigText('scan:\n  targets: ["10.0.0.0/24"]\n  shard: "1/2"\n', 'c.yml', {
      shard: { index: 0, count: 2 },
    });
    assert.deepEqual(other.scan.shard, { index: 0, count: 2 });
  });

  it('names a bad shard with its path', () => {
    assert.throws(() => parseConfigText('scan:\n  shard: "2/2"\n', 'c.yml'), {
      message: 'c.yml: scan.shard: "2/2" has index 2, which must be below the number of replicas (2)',
    });
  });
});
