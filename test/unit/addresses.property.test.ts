/**
 * Properties of the target parser and the set arithmetic, over generated addresses and ranges. The seed is
 * fixed so a run is repeatable; a failure prints the counterexample fast-check shrank it to.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  buildTargetSet,
  countAddresses,
  formatAddress,
  parseAddress,
  parseTargetSpec,
} from '../../src/net/addresses.ts';
import { renderCidrBlocks } from '../../src/targets/cidr-blocks.ts';
import type { AddressRange, IpFamily, TargetSet } from '../../src/net/addresses.ts';

fc.configureGlobal({ seed: 20_261_126, numRuns: 200 });

const BITS = { 4: 32n, 6: 128n } as const;
/** Where the dense ranges sit: 10.0.0.0 and 2001:db8::, so IPv6 values are real 128-bit bigints. */
const DENSE_BASE = { 4: 0x0a00_0000n, 6: 0x2001_0db8n << 96n } as const;
/** Small enough that generated ranges overlap, touch and nest often. */
const DENSE_SPAN = 2048n;

const family = fc.constantFrom<IpFamily>(4, 6);

/** Any address of the family, anywhere in its space. */
function anyValue(of: IpFamily): fc.Arbitrary<bigint> {
  return fc.bigInt({ min: 0n, max: (1n << BITS[of]) - 1n });
}

function rangeFrom(of: IpFamily, a: bigint, b: bigint): AddressRange {
  return a <= b ? { family: of, first: a, last: b } : { family: of, first: b, last: a };
}

/** Mostly ranges inside a small window of each family, sometimes one anywhere in the whole space. */
const range: fc.Arbitrary<AddressRange> = fc.oneof(
  {
    weight: 4,
    arbitrary: family.chain((of) =>
      fc
        .tuple(fc.bigInt({ min: 0n, max: DENSE_SPAN }), fc.bigInt({ min: 0n, max: DENSE_SPAN }))
        .map(([a, b]) => rangeFrom(of, DENSE_BASE[of] + a, DENSE_BASE[of] + b)),
    ),
  },
  {
    weight: 1,
    arbitrary: family.chain((of) => fc.tuple(anyValue(of), anyValue(of)).map(([a, b]) => rangeFrom(of, a, b))),
  },
);

const ranges = fc.array(range, { maxLength: 8 });

function includes(list: readonly AddressRange[], of: IpFamily, value: bigint): boolean {
  return list.some((r) => r.family === of && r.first <= value && value <= r.last);
}

/** The addresses where set arithmetic goes wrong if it does: every range end and its two neighbours. */
function probes(list: readonly AddressRange[]): { family: IpFamily; value: bigint }[] {
  return list.flatMap((r) =>
    [r.first - 1n, r.first, r.first + 1n, r.last - 1n, r.last, r.last + 1n]
      .filter((value) => value >= 0n && value < 1n << BITS[r.family])
      .map((value) => ({ family: r.family, value })),
  );
}

function assertSortedAndSeparate(set: TargetSet): void {
  set.ranges.forEach((r, index) => {
    assert.ok(r.first <= r.last, 'a range starts no later than it ends');
    const next = set.ranges[index + 1];
    if (next && next.family === r.family)
      assert.ok(next.first > r.last + 1n, 'ranges of one family neither overlap nor touch');
    if (next) assert.ok(next.family >= r.family, 'IPv4 ranges come before IPv6 ones');
  });
}

describe('target parser properties', () => {
  it('parses any IPv4 CIDR to the aligned block of 2^(32-prefix) addresses that holds the address', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.integer({ min: 0, max: 32 }), (address, prefix) => {
        const parsed = parseTargetSpec(`${address}/${prefix}`);
        assert.ok(parsed.ok, `${address}/${prefix} parses`);
        assertBlock(parsed.range, 4, prefix, parseAddress(address)?.value);
      }),
    );
  });

  it('parses any IPv6 CIDR to the aligned block of 2^(128-prefix) addresses that holds the address', () => {
    fc.assert(
      fc.property(fc.ipV6(), fc.integer({ min: 0, max: 128 }), (address, prefix) => {
        const parsed = parseTargetSpec(`${address}/${prefix}`);
        assert.ok(parsed.ok, `${address}/${prefix} parses`);
        assertBlock(parsed.range, 6, prefix, parseAddress(address)?.value);
      }),
    );
  });

  it('reads back every address it writes', () => {
    fc.assert(
      fc.property(
        family.chain((of) => fc.tuple(fc.constant(of), anyValue(of))),
        ([of, value]) => {
          assert.deepEqual(parseAddress(formatAddress(of, value)), { family: of, value });
        },
      ),
    );
  });

  it('turns a set into CIDR blocks that parse back to exactly the same set, each address once', () => {
    fc.assert(
      fc.property(ranges, (list) => {
        const set = buildTargetSet(list, []);
        const blocks = [...renderCidrBlocks(set, 4), ...renderCidrBlocks(set, 6)].map((block) => {
          const parsed = parseTargetSpec(block);
          assert.ok(parsed.ok, `${block} parses`);
          return parsed.range;
        });
        assert.deepEqual(buildTargetSet(blocks, []).ranges, set.ranges);
        const blockSizes = blocks.reduce((sum, block) => sum + block.last - block.first + 1n, 0n);
        assert.equal(blockSizes, countAddresses(set.ranges), 'no two blocks overlap');
      }),
    );
  });

  it('keeps exactly the target addresses that no exclusion names', () => {
    fc.assert(
      fc.property(ranges, ranges, (targets, exclude) => {
        const set = buildTargetSet(targets, exclude);
        assertSortedAndSeparate(set);
        for (const probe of probes([...targets, ...exclude])) {
          const expected =
            includes(targets, probe.family, probe.value) && !includes(exclude, probe.family, probe.value);
          assert.equal(
            includes(set.ranges, probe.family, probe.value),
            expected,
            `${formatAddress(probe.family, probe.value)}`,
          );
        }
        for (const r of set.ranges) {
          assert.ok(
            includes(targets, r.family, r.first) && includes(targets, r.family, r.last),
            'every kept range lies in the targets',
          );
        }
      }),
    );
  });

  it('never counts more addresses after exclusion than before', () => {
    fc.assert(
      fc.property(ranges, ranges, (targets, exclude) => {
        assert.ok(countAddresses(buildTargetSet(targets, exclude).ranges) <= countAddresses(targets));
      }),
    );
  });

  it('refuses every string that starts with "-", whatever follows', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (rest) => {
        assert.deepEqual(parseTargetSpec(`-${rest}`), { ok: false, reason: 'must not start with "-"' });
      }),
    );
  });

  it('refuses a valid target with a space, a newline, a NUL or a shell character added at either end', () => {
    const target = fc.oneof(
      fc.ipV4(),
      fc.ipV6(),
      fc.ipV4().map((address) => `${address}/24`),
    );
    const junk = fc.constantFrom(' ', '\n', '\0', ';', '|', '$(id)', '`id`', '&', '>');
    fc.assert(
      fc.property(target, junk, fc.boolean(), (text, extra, before) => {
        assert.equal(parseTargetSpec(before ? `${extra}${text}` : `${text}${extra}`).ok, false);
      }),
    );
  });
});

function assertBlock(block: AddressRange, of: IpFamily, prefix: number, address: bigint | undefined): void {
  const hostBits = BITS[of] - BigInt(prefix);
  assert.equal(block.family, of);
  assert.equal(countAddresses([block]), 1n << hostBits);
  assert.equal(block.first % (1n << hostBits), 0n, 'the block is aligned on its size');
  assert.ok(address !== undefined && block.first <= address && address <= block.last, 'the block holds the address');
}
