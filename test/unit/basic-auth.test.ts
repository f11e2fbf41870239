import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import { BasicAuthChecker, parseBasicAuthorization } from '../../src/web/basic-auth.ts';
import type { BcryptCompare } from '../../src/web/basic-auth.ts';

// Cost 4, the lowest, keeps the real bcrypt runs here fast.
const ALICE_HASH = bcrypt.hashSync('alice-secret', 4);
const BOB_HASH = bcrypt.hashSync('bob-secret', 4);

/** The real bcrypt compare, recording which hash each call was against. */
function countingCompare(): { compare: BcryptCompare; hashes: string[] } {
  const hashes: string[] = [];
  return {
    hashes,
    compare: async (password, hash) => {
      hashes.push(hash);
      return bcrypt.compare(password, hash);
    },
  };
}

function checker(compare: BcryptCompare, cacheSize?: number): BasicAuthChecker {
  return new BasicAuthChecker({
    users: new Map([
      ['alice', ALICE_HASH],
      ['bob', BOB_HASH],
    ]),
    compare,
    ...(cacheSize === undefined ? {} : { cacheSize }),
  });
}

describe('BasicAuthChecker', () => {
  it('accepts the right password and refuses a wrong one', async () => {
    const auth = checker(countingCompare().compare);
    assert.equal(await auth.check({ user: 'alice', password: 'alice-secret' }), true);
    assert.equal(await auth.check({ user: 'alice', password: 'bob-secret' }), false);
    assert.equal(await auth.check({ user: 'bob', password: 'alice-secret' }), false);
    assert.equal(await auth.check(undefined), false);
  });

  it('runs bcrypt once for repeated scrapes with the same credentials', async () => {
    const counting = countingCompare();
    const auth = checker(counting.compare);
    for (let scrape = 0; scrape < 5; scrape += 1)
      assert.equal(await auth.check({ user: 'alice', password: 'alice-secret' }), true);
    assert.equal(counting.hashes.length, 1);
  });

  it('never caches a failure: each wrong password pays bcrypt again', async () => {
    const counting = countingCompare();
    const auth = checker(counting.compare);
    for (let attempt = 0; attempt < 3; attempt += 1)
      assert.equal(await auth.check({ user: 'alice', password: 'guess' }), false);
    assert.equal(counting.hashes.length, 3);
    assert.equal(await auth.check({ user: 'alice', password: 'alice-secret' }), true);
  });

  it('does not let a cached success stand for another password of the same user', async () => {
    const counting = countingCompare();
    const auth = checker(counting.compare);
    assert.equal(await auth.check({ user: 'alice', password: 'alice-secret' }), true);
    assert.equal(await auth.check({ user: 'alice', password: 'alice-secret!' }), false);
    assert.equal(counting.hashes.length, 2);
  });

  it("runs bcrypt for an unknown user too, against a hash of the users' cost, and refuses", async () => {
    const counting = countingCompare();
    const auth = checker(counting.compare);
    assert.equal(await auth.check({ user: 'mallory', password: 'alice-secret' }), false);
    assert.equal(await auth.check({ user: 'mallory', password: 'alice-secret' }), false);
    assert.equal(counting.hashes.length, 2);
    assert.match(counting.hashes[0] ?? '', /^\$2b\$04\$[./A-Za-z0-9]{53}$/);
    assert.notEqual(counting.hashes[0], ALICE_HASH);
  });

  it('checks unknown users at the highest cost among the users', async () => {
    const counting = countingCompare();
    const slow = `$2b$12$${'a'.repeat(53)}`;
    const auth = new BasicAuthChecker({
      users: new Map([
        ['alice', ALICE_HASH],
        ['carol', slow],
      ]),
      compare: async (_password, hash) => {
        counting.hashes.push(hash);
        return false;
      },
    });
    await auth.check({ user: 'nobody', password: 'x' });
    assert.match(counting.hashes[0] ?? '', /^\$2b\$12\$/);
  });

  it('keeps at most cacheSize successes, dropping the oldest', async () => {
    const counting = countingCompare();
    const auth = checker(counting.compare, 1);
    await auth.check({ user: 'alice', password: 'alice-secret' });
    await auth.check({ user: 'bob', password: 'bob-secret' });
    await auth.check({ user: 'bob', password: 'bob-secret' });
    assert.equal(counting.hashes.length, 2, 'bob stayed cached');
    await auth.check({ user: 'alice', password: 'alice-secret' });
    assert.equal(counting.hashes.length, 3, 'alice was dropped to make room for bob');
  });

  it('is off without users', () => {
    assert.equal(new BasicAuthChecker({ users: new Map() }).enabled, false);
    assert.equal(checker(countingCompare().compare).enabled, true);
  });
});

describe('parseBasicAuthorization', () => {
  const basic = (text: string): string => `Basic ${Buffer.from(text).toString('base64')}`;

  it('splits user and password at the first colon', () => {
    assert.deepEqual(parseBasicAuthorization(basic('alice:pa:ss')), { user: 'alice', password: 'pa:ss' });
    assert.deepEqual(parseBasicAuthorization(basic('alice:')), { user: 'alice', password: '' });
  });

  it('takes the scheme in any case', () => {
    assert.deepEqual(parseBasicAuthorization(basic('a:b').replace('Basic', 'bAsIc')), { user: 'a', password: 'b' });
  });

  it('reads nothing from a missing header, another scheme or credentials without a colon', () => {
    assert.equal(parseBasicAuthorization(undefined), undefined);
    assert.equal(parseBasicAuthorization('Bearer abc'), undefined);
    assert.equal(parseBasicAuthorization(basic('alice')), undefined);
  });
});
