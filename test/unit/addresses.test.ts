import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  buildTargetSet,
  countAddresses,
  enumerateAddresses,
  formatAddress,
  mergeRanges,
  parseAddress,
  parseTargetSpec,
  setContains,
  setContainsAddress,
} from '../../src/net/addresses.ts';
import type { AddressRange, IpFamily, TargetSet } from '../../src/net/addresses.ts';
import { createRandom } from '../support/random.ts';

function rangeOf(spec: string): AddressRange {
  const result = parseTargetSpec(spec);
  assert.ok(result.ok, `expected ${JSON.stringify(spec)} to parse`);
  return result.range;
}

function setOf(targets: readonly string[], exclude: readonly string[] = []): TargetSet {
  return buildTargetSet(targets.map(rangeOf), exclude.map(rangeOf));
}

/** Ranges as "first-last" text, so a failing assertion shows addresses rather than bigints. */
function describeRanges(ranges: readonly AddressRange[]): string[] {
  return ranges.map(
    (range) => `${formatAddress(range.family, range.first)}-${formatAddress(range.family, range.last)}`,
  );
}

function sampleValue(text: string): bigint {
  const address = parseAddress(text);
  assert.ok(address !== undefined, `expected ${JSON.stringify(text)} to parse`);
  return address.value;
}

describe('parseAddress', () => {
  const validIpv4: [string, bigint][] = [
    ['0.0.0.0', 0n],
    ['255.255.255.255', 0xffffffffn],
    ['192.0.2.1', 0xc0000201n],
    ['10.0.0.0', 0x0a000000n],
    ['100.64.0.10', 0x6440000an],
  ];
  for (const [text, value] of validIpv4) {
    it(`reads IPv4 ${text} as ${value}`, () => {
      assert.deepEqual(parseAddress(text), { family: 4, value });
    });
  }

  const validIpv6: [string, bigint][] = [
    ['::', 0n],
    ['::1', 1n],
    ['2001:db8::', 0x20010db8n << 96n],
    ['2001:DB8::1', (0x20010db8n << 96n) | 1n],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', (0x20010db8n << 96n) | 1n],
    ['2001:db8:0:0:1:0:0:1', (0x20010db8n << 96n) | (1n << 48n) | 1n],
    ['::ffff:1.2.3.4', 0xffff01020304n],
    ['64:ff9b::192.0.2.33', (0x64ff9bn << 96n) | 0xc0000221n],
    ['1:2:3:4:5:6:1.2.3.4', 0x00010002000300040005000601020304n],
    ['1:2:3:4:5:6:7::', 0x00010002000300040005000600070000n],
    ['::2:3:4:5:6:7:8', 0x00000002000300040005000600070008n],
    ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', (1n << 128n) - 1n],
  ];
  for (const [text, value] of validIpv6) {
    it(`reads IPv6 ${text}`, () => {
      assert.deepEqual(parseAddress(text), { family: 6, value });
    });
  }

  const invalid = [
    '',
    '010.0.0.1',
    '10.0.0.01',
    '00.0.0.0',
    '10.0.0',
    '10.0.0.1.',
    '1.2.3.4.5',
    '10..0.1',
    '10.0.0.256',
    '+1.2.3.4',
    '0x1.2.3.4',
    '1e2.0.0.1',
    ' 10.0.0.1',
    '10.0.0.1 ',
    'example.com',
    'fe80::1%eth0',
    '[::1]',
    '[2001:db8::1]',
    '1::2::3',
    ':::',
    ':1::',
    '1::2:',
    ':',
    '1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7::8',
    '12345::',
    'g::1',
    '::1.2.3',
    '::01.2.3.4',
    '1.2.3.4::',
    '::1.2.3.4:5',
    '1:2:3:4:5:6:7:1.2.3.4',
    ' ::1',
  ];
  for (const text of invalid) {
    it(`refuses ${JSON.stringify(text)}`, () => {
      assert.equal(parseAddress(text), undefined);
    });
  }
});

describe('formatAddress', () => {
  it('writes IPv4 as a dotted quad without leading zeros', () => {
    assert.equal(formatAddress(4, 0n), '0.0.0.0');
    assert.equal(formatAddress(4, 0xc0000201n), '192.0.2.1');
    assert.equal(formatAddress(4, 0xffffffffn), '255.255.255.255');
  });

  const canonical: [string, string][] = [
    ['2001:0DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['1:0:0:0:0:0:0:0', '1::'],
    ['0:0:1:0:0:0:0:0', '0:0:1::'],
    ['FE80:0:0:0:ABCD:0:0:1', 'fe80::abcd:0:0:1'],
    ['2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff', '2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff'],
    ['::ffff:c000:0280', '::ffff:192.0.2.128'],
    ['::192.0.2.1', '::c000:201'],
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
  ];
  for (const [input, expected] of canonical) {
    it(`writes ${input} in RFC 5952 form as ${expected}`, () => {
      assert.equal(formatAddress(6, sampleValue(input)), expected);
    });
  }

  it('round-trips a few hundred random addresses of both families through parseAddress', () => {
    const random = createRandom(5952);
    for (let index = 0; index < 400; index++) {
      const family: IpFamily = index % 2 === 0 ? 4 : 6;
      const groups = family === 4 ? 2 : 8;
      let value = 0n;
      // Zero groups are drawn often so that compression and ties are exercised, not only dense addresses.
      for (let group = 0; group < groups; group++) {
        value = (value << 16n) | BigInt(random(3) === 0 ? 0 : random(0x10000));
      }
      const text = formatAddress(family, value);
      assert.deepEqual(parseAddress(text), { family, value }, text);
      assert.equal(text, text.toLowerCase());
    }
  });

  it('compresses IPv6 the way the WHATWG URL serializer does, outside the IPv4-mapped block', () => {
    const random = createRandom(4291);
    for (let index = 0; index < 400; index++) {
      const groups = Array.from({ length: 8 }, () => (random(2) === 0 ? 0 : random(0x10000)));
      if (groups.slice(0, 6).join(':') === '0:0:0:0:0:65535') continue;
      const full = groups.map((group) => group.toString(16).padStart(4, '0')).join(':');
      // URL serializes IPv6 hosts per RFC 5952 §4 (no mixed notation), so it is an independent oracle.
      const expected = new URL(`http://[${full}]/`).hostname.slice(1, -1);
      assert.equal(formatAddress(6, sampleValue(full)), expected, full);
    }
  });
});

describe('parseTargetSpec', () => {
  const valid: [string, string, string][] = [
    ['192.0.2.7', '192.0.2.7', '192.0.2.7'],
    ['2001:db8::5', '2001:db8::5', '2001:db8::5'],
    ['203.0.113.0/24', '203.0.113.0', '203.0.113.255'],
    ['10.0.0.5/24', '10.0.0.0', '10.0.0.255'],
    ['10.0.0.5/32', '10.0.0.5', '10.0.0.5'],
    ['10.0.0.5/31', '10.0.0.4', '10.0.0.5'],
    ['0.0.0.0/0', '0.0.0.0', '255.255.255.255'],
    ['2001:db8::1/64', '2001:db8::', '2001:db8::ffff:ffff:ffff:ffff'],
    ['2001:db8::1/128', '2001:db8::1', '2001:db8::1'],
    ['::/0', '::', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
    ['198.51.100.10-198.51.100.20', '198.51.100.10', '198.51.100.20'],
    ['10.0.0.1-10.0.0.1', '10.0.0.1', '10.0.0.1'],
    ['2001:db8::1-2001:db8::ff', '2001:db8::1', '2001:db8::ff'],
  ];
  for (const [spec, first, last] of valid) {
    it(`reads ${spec} as ${first} to ${last}`, () => {
      const range = rangeOf(spec);
      assert.deepEqual(describeRanges([range]), [`${first}-${last}`]);
      assert.equal(range.family, spec.includes(':') ? 6 : 4);
    });
  }

  const invalid: [string, string][] = [
    ['', 'is empty'],
    ['-sS', 'must not start with "-"'],
    ['-10.0.0.1', 'must not start with "-"'],
    ['--script=evil', 'must not start with "-"'],
    ['-10.0.0.0/24', 'must not start with "-"'],
    ['10.0.0.0/33', 'is not a valid CIDR'],
    ['2001:db8::/129', 'is not a valid CIDR'],
    ['10.0.0.0/', 'is not a valid CIDR'],
    ['/24', 'is not a valid CIDR'],
    ['10.0.0.0/024', 'is not a valid CIDR'],
    ['10.0.0.0/24/8', 'is not a valid CIDR'],
    ['10.0.0.0/-1', 'is not a valid CIDR'],
    ['10.0.0.0/ 24', 'is not a valid CIDR'],
    ['10.0.0.0/24 ', 'is not a valid CIDR'],
    ['010.0.0.0/8', 'is not a valid CIDR'],
    ['example.com/24', 'is not a valid CIDR'],
    ['10.0.0.1-10.0.0.9/24', 'is not a valid CIDR'],
    ['10.0.0.1-', 'is not a valid range'],
    ['10.0.0.1-20', 'is not a valid range'],
    ['10.0.0-255.1', 'is not a valid range'],
    ['10.0.0.1-10.0.0.2-10.0.0.3', 'is not a valid range'],
    ['10.0.0.1 - 10.0.0.2', 'is not a valid range'],
    ['my-host.example.com', 'is not a valid range'],
    ['10.0.0.20-10.0.0.10', 'is not a valid range: start is after end'],
    ['2001:db8::ff-2001:db8::1', 'is not a valid range: start is after end'],
    ['10.0.0.1-::1', 'is not a valid range: both ends must be of the same address family'],
    ['::ffff:10.0.0.1-10.0.0.2', 'is not a valid range: both ends must be of the same address family'],
    ['example.com', 'is not a valid IP address'],
    ['localhost', 'is not a valid IP address'],
    ['10.0.0.1 ', 'is not a valid IP address'],
    [' 10.0.0.1', 'is not a valid IP address'],
    ['10.0.0', 'is not a valid IP address'],
    ['010.0.0.1', 'is not a valid IP address'],
    ['fe80::1%eth0', 'is not a valid IP address'],
    ['[::1]', 'is not a valid IP address'],
    ['10.0.0.*', 'is not a valid IP address'],
  ];
  for (const [spec, reason] of invalid) {
    it(`refuses ${JSON.stringify(spec)} because it ${reason}`, () => {
      assert.deepEqual(parseTargetSpec(spec), { ok: false, reason });
    });
  }
});

describe('merging target ranges', () => {
  it('merges overlapping ranges into one', () => {
    assert.deepEqual(describeRanges(setOf(['10.0.0.0/24', '10.0.0.128-10.0.1.10']).ranges), ['10.0.0.0-10.0.1.10']);
  });

  it('merges ranges that touch without overlapping', () => {
    assert.deepEqual(describeRanges(setOf(['10.0.0.128/25', '10.0.0.0/25']).ranges), ['10.0.0.0-10.0.0.255']);
  });

  it('keeps ranges with a one-address gap apart', () => {
    assert.deepEqual(describeRanges(setOf(['10.0.0.3', '10.0.0.1']).ranges), [
      '10.0.0.1-10.0.0.1',
      '10.0.0.3-10.0.0.3',
    ]);
  });

  it('absorbs a range contained in another and duplicates', () => {
    assert.deepEqual(describeRanges(setOf(['10.0.5.0/24', '10.0.0.0/16', '10.0.0.0/16']).ranges), [
      '10.0.0.0-10.0.255.255',
    ]);
  });

  it('sorts IPv4 before IPv6 and each family by start', () => {
    assert.deepEqual(describeRanges(setOf(['2001:db8::1', '10.0.0.9', '2001:db8::/127', '10.0.0.1']).ranges), [
      '10.0.0.1-10.0.0.1',
      '10.0.0.9-10.0.0.9',
      '2001:db8::-2001:db8::1',
    ]);
  });

  it('never merges an IPv4 range with an IPv6 range of neighbouring numbers', () => {
    const merged = mergeRanges([rangeOf('0.0.0.1'), rangeOf('::2')]);
    assert.deepEqual(
      merged.map((range) => [range.family, range.first, range.last]),
      [
        [4, 1n, 1n],
        [6, 2n, 2n],
      ],
    );
  });
});

describe('excluding ranges', () => {
  const cases: { name: string; targets: string[]; exclude: string[]; ranges: string[]; count: number }[] = [
    {
      name: 'splits a range in two when the exclusion is in the middle',
      targets: ['10.0.0.0/24'],
      exclude: ['10.0.0.100-10.0.0.199'],
      ranges: ['10.0.0.0-10.0.0.99', '10.0.0.200-10.0.0.255'],
      count: 156,
    },
    {
      name: 'trims the first address of a range',
      targets: ['10.0.0.0/24'],
      exclude: ['10.0.0.0'],
      ranges: ['10.0.0.1-10.0.0.255'],
      count: 255,
    },
    {
      name: 'trims the last address of a range',
      targets: ['10.0.0.0/24'],
      exclude: ['10.0.0.255'],
      ranges: ['10.0.0.0-10.0.0.254'],
      count: 255,
    },
    {
      name: 'trims a range partly covered by an exclusion that starts before it',
      targets: ['10.0.0.10-10.0.0.20'],
      exclude: ['10.0.0.0-10.0.0.15'],
      ranges: ['10.0.0.16-10.0.0.20'],
      count: 5,
    },
    {
      name: 'leaves nothing when the exclusion covers everything',
      targets: ['10.0.0.0/24', '10.0.1.7'],
      exclude: ['10.0.0.0/16'],
      ranges: [],
      count: 0,
    },
    {
      name: 'changes nothing when the exclusion lies outside the targets',
      targets: ['10.0.0.0/24'],
      exclude: ['192.0.2.0/24', '10.0.1.0', '9.255.255.255'],
      ranges: ['10.0.0.0-10.0.0.255'],
      count: 256,
    },
    {
      name: 'lets one exclusion cut the end of one range and the start of the next',
      targets: ['10.0.0.0/24', '10.0.2.0/24'],
      exclude: ['10.0.0.128-10.0.2.127'],
      ranges: ['10.0.0.0-10.0.0.127', '10.0.2.128-10.0.2.255'],
      count: 256,
    },
    {
      name: 'punches several holes in one range',
      targets: ['10.0.0.0/28'],
      exclude: ['10.0.0.9', '10.0.0.2-10.0.0.3', '10.0.0.12/30', '10.0.0.3-10.0.0.4'],
      ranges: ['10.0.0.0-10.0.0.1', '10.0.0.5-10.0.0.8', '10.0.0.10-10.0.0.11'],
      count: 8,
    },
    {
      name: 'ignores an IPv6 exclusion over the same numbers as IPv4 targets',
      targets: ['0.0.0.0/30'],
      exclude: ['::/126'],
      ranges: ['0.0.0.0-0.0.0.3'],
      count: 4,
    },
    {
      name: 'excludes from both families independently',
      targets: ['10.0.0.0/30', '2001:db8::/126'],
      exclude: ['10.0.0.0', '2001:db8::3'],
      ranges: ['10.0.0.1-10.0.0.3', '2001:db8::-2001:db8::2'],
      count: 6,
    },
  ];
  for (const { name, targets, exclude, ranges, count } of cases) {
    it(name, () => {
      const set = setOf(targets, exclude);
      assert.deepEqual(describeRanges(set.ranges), ranges);
      assert.equal(set.count, count);
    });
  }
});

describe('counting addresses', () => {
  it('counts overlapping ranges once', () => {
    assert.equal(countAddresses(['10.0.0.0/24', '10.0.0.128/25', '10.0.0.255'].map(rangeOf)), 256n);
  });

  it('counts nothing for no ranges', () => {
    assert.equal(countAddresses([]), 0n);
  });

  // Enumerating 2^64 addresses would never finish, so this test finishing is the proof that nothing enumerates.
  it('counts an IPv6 /64 and excludes half of it without enumerating', () => {
    assert.equal(countAddresses([rangeOf('2001:db8::/64')]), 2n ** 64n);
    const set = buildTargetSet([rangeOf('2001:db8::/64')], [rangeOf('2001:db8::/65')]);
    assert.equal(countAddresses(set.ranges), 2n ** 63n);
    assert.deepEqual(describeRanges(set.ranges), ['2001:db8:0:0:8000::-2001:db8::ffff:ffff:ffff:ffff']);
  });

  it('counts the whole IPv6 space exactly as a bigint', () => {
    assert.equal(countAddresses([rangeOf('::/0'), rangeOf('0.0.0.0/0')]), 2n ** 128n + 2n ** 32n);
  });

  it('clamps the set count to the largest safe integer when it is larger', () => {
    assert.equal(setOf(['2001:db8::/64']).count, Number.MAX_SAFE_INTEGER);
    assert.equal(setOf(['2001:db8::/75']).count, Number.MAX_SAFE_INTEGER);
    assert.equal(setOf(['::-::1f:ffff:ffff:ffff']).count, Number.MAX_SAFE_INTEGER);
    assert.equal(setOf(['2001:db8::/76']).count, 2 ** 52);
  });
});

describe('setContains', () => {
  const set = setOf(['10.0.0.10-10.0.0.20', '10.0.0.30', '2001:db8::/127']);

  const inside = ['10.0.0.10', '10.0.0.15', '10.0.0.20', '10.0.0.30', '2001:db8::', '2001:db8::1', '2001:DB8:0::1'];
  for (const ip of inside) {
    it(`finds ${ip} in the set`, () => {
      assert.equal(setContainsAddress(set, ip), true);
    });
  }

  const outside = [
    '10.0.0.9',
    '10.0.0.21',
    '10.0.0.29',
    '10.0.0.31',
    '0.0.0.0',
    '255.255.255.255',
    '2001:db8::2',
    '2001:db7:ffff:ffff:ffff:ffff:ffff:ffff',
    '::ffff:10.0.0.15',
    '::',
  ];
  for (const ip of outside) {
    it(`does not find ${ip} in the set`, () => {
      assert.equal(setContainsAddress(set, ip), false);
    });
  }

  it('does not match an address of the other family with the same number', () => {
    assert.equal(setContains(set, 4, sampleValue('10.0.0.15')), true);
    assert.equal(setContains(set, 6, sampleValue('10.0.0.15')), false);
    assert.equal(setContains(set, 4, sampleValue('2001:db8::')), false);
  });

  it('finds nothing in an empty set', () => {
    const empty = setOf([]);
    assert.equal(empty.count, 0);
    assert.equal(setContains(empty, 4, 0n), false);
    assert.equal(setContainsAddress(empty, '10.0.0.1'), false);
  });

  it('treats text that is not an address as outside the set', () => {
    for (const text of ['', 'not-an-ip', '10.0.0.15 ', '10.0.0.10-10.0.0.20', '10.0.0.15/32']) {
      assert.equal(setContainsAddress(set, text), false, text);
    }
  });
});

describe('enumerateAddresses', () => {
  it('lists IPv4 addresses before IPv6 ones, each ascending', () => {
    const set = setOf(['2001:db8::1-2001:db8::2', '10.0.0.9', '10.0.0.1-10.0.0.2', '::ffff:0.0.0.1']);
    assert.deepEqual(
      [...enumerateAddresses(set)],
      ['10.0.0.1', '10.0.0.2', '10.0.0.9', '::ffff:0.0.0.1', '2001:db8::1', '2001:db8::2'],
    );
  });

  it('produces addresses lazily so the start of a /64 can be read', () => {
    const iterator = enumerateAddresses(setOf(['2001:db8::/64']));
    const firstThree = [iterator.next().value, iterator.next().value, iterator.next().value];
    assert.deepEqual(firstThree, ['2001:db8::', '2001:db8::1', '2001:db8::2']);
  });

  it('produces nothing for an empty set', () => {
    assert.deepEqual([...enumerateAddresses(setOf(['10.0.0.0/24'], ['10.0.0.0/8']))], []);
  });
});
