import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TokenBucket } from '../../src/web/token-bucket.ts';

describe('TokenBucket', () => {
  it('starts full, refuses once the burst is spent, and earns one token per interval', () => {
    const bucket = new TokenBucket({ intervalMs: 1000, burst: 2 }, 0);
    assert.deepEqual([bucket.take(0), bucket.take(0), bucket.take(0)], [true, true, false]);
    assert.equal(bucket.take(999), false);
    assert.equal(bucket.take(1999), true, 'the token earned between 0 and 1000 ms');
    assert.equal(bucket.take(1999), false);
  });

  it('never saves more than the burst however long it is idle', () => {
    const bucket = new TokenBucket({ intervalMs: 100, burst: 3 }, 0);
    const taken = Array.from({ length: 5 }, () => bucket.take(60_000));
    assert.deepEqual(taken, [true, true, true, false, false]);
  });

  it('allows nothing with a burst of 0, as Go does', () => {
    const bucket = new TokenBucket({ intervalMs: 1, burst: 0 }, 0);
    assert.deepEqual([bucket.take(0), bucket.take(10), bucket.take(1_000_000)], [false, false, false]);
  });

  it('knows the limit it was made for', () => {
    const bucket = new TokenBucket({ intervalMs: 1000, burst: 2 }, 0);
    assert.deepEqual(
      [
        bucket.hasLimit({ intervalMs: 1000, burst: 2 }),
        bucket.hasLimit({ intervalMs: 1000, burst: 3 }),
        bucket.hasLimit(undefined),
      ],
      [true, false, false],
    );
  });
});
