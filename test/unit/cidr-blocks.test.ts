import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  buildTargetSet,
  enumerateAddresses,
  formatAddress,
  parseAddress,
  parseTargetSpec,
  setContainsAddress,
} from '../../src/net/addresses.ts';
import type { AddressRange, IpFamily, TargetSet } from '../../src/net/addresses.ts';
import { generateRangeBlocks, renderCidrBlocks } from '../../src/targets/cidr-blocks.ts';
import { createRandom } from '../support/random.ts';

function rangeOf(spec: string): AddressRange {
  const result = parseTargetSpec(spec);
  assert.ok(result.ok, `expected ${JSON.stringify(spec)} to parse`);
  return result.range;
}

function setOf(targets: readonly string[], exclude: readonly string[] = []): TargetSet {
  return buildTargetSet(targets.map(rangeOf), exclude.map(rangeOf));
}

function sampleValue(text: string): bigint {
  const address = parseAddress(text);
  assert.ok(address !== undefined, `expected ${JSON.stringify(text)} to parse`);
  return address.value;
}

describe('renderCidrBlocks', () => {
  const cases: { targets: string[]; exclude?: string[]; family: IpFamily; blocks: string[] }[] = [
    {
      targets: ['10.0.0.3-10.0.0.17'],
      family: 4,
      blocks: ['10.0.0.3', '10.0.0.4/30', '10.0.0.8/29', '10.0.0.16/31'],
    },
    { targets: ['10.0.0.5/24'], family: 4, blocks: ['10.0.0.0/24'] },
    { targets: ['10.0.0.5'], family: 4, blocks: ['10.0.0.5'] },
    { targets: ['0.0.0.0/0'], family: 4, blocks: ['0.0.0.0/0'] },
    { targets: ['10.0.0.255-10.0.1.0'], family: 4, blocks: ['10.0.0.255', '10.0.1.0'] },
    {
      targets: ['10.0.0.0/24'],
      exclude: ['10.0.0.128'],
      family: 4,
      blocks: [
        '10.0.0.0/25',
        '10.0.0.129',
        '10.0.0.130/31',
        '10.0.0.132/30',
        '10.0.0.136/29',
        '10.0.0.144/28',
        '10.0.0.160/27',
        '10.0.0.192/26',
      ],
    },
    {
      targets: ['2001:db8::1-2001:db8::ff'],
      family: 6,
      blocks: [
        '2001:db8::1',
        '2001:db8::2/127',
        '2001:db8::4/126',
        '2001:db8::8/125',
        '2001:db8::10/124',
        '2001:db8::20/123',
        '2001:db8::40/122',
        '2001:db8::80/121',
      ],
    },
    { targets: ['2001:db8::/64'], family: 6, blocks: ['2001:db8::/64'] },
    { targets: ['10.0.0.0/30', '2001:db8::/126'], family: 4, blocks: ['10.0.0.0/30'] },
    { targets: ['10.0.0.0/30', '2001:db8::/126'], family: 6, blocks: ['2001:db8::/126'] },
    { targets: ['10.0.0.0/30'], family: 6, blocks: [] },
  ];
  for (const { targets, exclude = [], family, blocks } of cases) {
    const label = exclude.length > 0 ? `${targets.join(', ')} minus ${exclude.join(', ')}` : targets.join(', ');
    it(`renders IPv${family} of ${label} as ${blocks.length === 0 ? 'nothing' : blocks.join(', ')}`, () => {
      assert.deepEqual(renderCidrBlocks(setOf(targets, exclude), family), blocks);
    });
  }

  it('renders everything but the last IPv4 address as one block per prefix length', () => {
    const blocks = renderCidrBlocks(setOf(['0.0.0.0-255.255.255.254']), 4);
    assert.equal(blocks.length, 32);
    assert.equal(blocks[0], '0.0.0.0/1');
    assert.equal(blocks[1], '128.0.0.0/2');
    assert.equal(blocks[30], '255.255.255.252/31');
    assert.equal(blocks[31], '255.255.255.254');
  });

  it('covers exactly the set for a few hundred random small ranges with exclusions', () => {
    const random = createRandom(20240601);
    const base = sampleValue('10.0.0.0');
    const window = 512;
    const randomRange = (maxLength: number): string => {
      const first = random(window);
      const last = Math.min(window - 1, first + random(maxLength));
      return `${formatAddress(4, base + BigInt(first))}-${formatAddress(4, base + BigInt(last))}`;
    };
    for (let trial = 0; trial < 300; trial++) {
      const targets = Array.from({ length: 1 + random(4) }, () => randomRange(100));
      const exclude = Array.from({ length: random(4) }, () => randomRange(40));
      const label = `targets ${targets.join(' ')} exclude ${exclude.join(' ')}`;

      const expected = new Set<number>();
      for (const spec of targets) {
        const range = rangeOf(spec);
        for (let value = range.first; value <= range.last; value++) expected.add(Number(value - base));
      }
      for (const spec of exclude) {
        const range = rangeOf(spec);
        for (let value = range.first; value <= range.last; value++) expected.delete(Number(value - base));
      }
      const expectedAddresses = [...expected]
        .sort((a, b) => a - b)
        .map((offset) => formatAddress(4, base + BigInt(offset)));

      const set = setOf(targets, exclude);
      assert.equal(set.count, expected.size, label);
      assert.deepEqual([...enumerateAddresses(set)], expectedAddresses, label);

      const expanded: string[] = [];
      for (const block of renderCidrBlocks(set, 4)) {
        const range = rangeOf(block);
        // A block whose address has host bits set would make nmap scan the whole enclosing network.
        assert.equal(formatAddress(4, range.first), block.split('/')[0], `${label}: ${block} is not aligned`);
        for (let value = range.first; value <= range.last; value++) expanded.push(formatAddress(4, value));
      }
      assert.deepEqual(expanded, expectedAddresses, label);

      for (let offset = -1; offset <= window; offset++) {
        const address = formatAddress(4, base + BigInt(offset));
        assert.equal(setContainsAddress(set, address), expected.has(offset), `${label}: ${address}`);
      }
    }
  });
});

describe('generateRangeBlocks', () => {
  it('produces the blocks of one range lazily: the first of a /1 range comes without the rest', () => {
    const blocks = generateRangeBlocks(rangeOf('0.0.0.1-255.255.255.255'));
    assert.deepEqual(
      [blocks.next().value, blocks.next().value, blocks.next().value],
      ['0.0.0.1', '0.0.0.2/31', '0.0.0.4/30'],
    );
  });
});
