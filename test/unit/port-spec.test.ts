import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ALL_PORTS,
  countPorts,
  mergePortIntervals,
  parsePortKey,
  parsePortSpec,
  portKey,
  renderPortSpec,
} from '../../src/net/port-spec.ts';
import type { PortInterval } from '../../src/net/port-spec.ts';

function parsed(text: string): readonly PortInterval[] {
  const result = parsePortSpec(text);
  assert.ok(result.ok, `expected ${JSON.stringify(text)} to parse, got ${result.ok ? '' : result.reason}`);
  return result.ports;
}

describe('parsePortSpec', () => {
  const valid: [text: string, rendered: string][] = [
    ['22', '22'],
    ['1-1024', '1-1024'],
    ['1-1024,3306,6379', '1-1024,3306,6379'],
    ['27017,6379,22', '22,6379,27017'],
    ['22,22', '22'],
    ['80,79,81', '79-81'],
    ['1-10,11-20', '1-20'],
    ['1-100,50-60', '1-100'],
    ['8000-8100,8050-8200', '8000-8200'],
    ['6379-6379', '6379'],
    ['1,65535', '1,65535'],
    ['1-65535', '1-65535'],
    ['00022', '22'],
  ];
  for (const [text, rendered] of valid) {
    it(`reads ${JSON.stringify(text)} as ${rendered}`, () => {
      assert.equal(renderPortSpec(parsed(text)), rendered);
    });
  }

  it('returns sorted, merged intervals', () => {
    assert.deepEqual(parsed('6379,1-1024,1000-2000,27017'), [
      { first: 1, last: 2000 },
      { first: 6379, last: 6379 },
      { first: 27017, last: 27017 },
    ]);
  });

  const invalid: [text: string, reason: string][] = [
    ['', 'is empty'],
    ['-', 'must not start with "-"'],
    ['-p-', 'must not start with "-"'],
    ['-1024', 'must not start with "-"'],
    ['--script=vuln', 'must not start with "-"'],
    ['0', 'is not a valid port list: 0 is outside 1-65535'],
    ['0-1024', 'is not a valid port list: 0 is outside 1-65535'],
    ['65536', 'is not a valid port list: 65536 is outside 1-65535'],
    ['1-99999', 'is not a valid port list: 99999 is outside 1-65535'],
    ['123456', 'is not a valid port list: "123456" is not a port or a range'],
    ['1024-1', 'is not a valid port list: "1024-1" starts after it ends'],
    ['22,,80', 'is not a valid port list: "" is not a port or a range'],
    ['22,', 'is not a valid port list: "" is not a port or a range'],
    ['1-2-3', 'is not a valid port list: "1-2-3" is not a port or a range'],
    ['1024-', 'is not a valid port list: "1024-" is not a port or a range'],
    ['T:22', 'is not a valid port list: "T:22" is not a port or a range'],
    ['U:53,T:22', 'is not a valid port list: "U:53" is not a port or a range'],
    ['ssh', 'is not a valid port list: "ssh" is not a port or a range'],
    ['22 ', 'is not a valid port list: "22 " is not a port or a range'],
    ['22, 80', 'is not a valid port list: " 80" is not a port or a range'],
    ['22,-sV', 'is not a valid port list: "-sV" is not a port or a range'],
    ['1-1024 -oN out', 'is not a valid port list: "1-1024 -oN out" is not a port or a range'],
    ['[22]', 'is not a valid port list: "[22]" is not a port or a range'],
    ['*', 'is not a valid port list: "*" is not a port or a range'],
  ];
  for (const [text, reason] of invalid) {
    it(`refuses ${JSON.stringify(text)}: ${reason}`, () => {
      assert.deepEqual(parsePortSpec(text), { ok: false, reason });
    });
  }
});

describe('mergePortIntervals', () => {
  it('merges overlapping and adjacent intervals and keeps separate ones apart', () => {
    assert.deepEqual(
      mergePortIntervals([
        { first: 8080, last: 8080 },
        { first: 1, last: 10 },
        { first: 11, last: 11 },
        { first: 5, last: 7 },
        { first: 13, last: 13 },
      ]),
      [
        { first: 1, last: 11 },
        { first: 13, last: 13 },
        { first: 8080, last: 8080 },
      ],
    );
  });

  it('leaves its input unchanged', () => {
    const input = [
      { first: 6379, last: 6379 },
      { first: 22, last: 22 },
    ];
    mergePortIntervals(input);
    assert.deepEqual(input, [
      { first: 6379, last: 6379 },
      { first: 22, last: 22 },
    ]);
  });

  it('returns nothing for nothing', () => {
    assert.deepEqual(mergePortIntervals([]), []);
  });
});

describe('renderPortSpec', () => {
  it('writes single ports bare and ranges with a dash', () => {
    assert.equal(
      renderPortSpec([
        { first: 22, last: 22 },
        { first: 6379, last: 6380 },
        { first: 27017, last: 27018 },
      ]),
      '22,6379-6380,27017-27018',
    );
  });

  it('round-trips through parsePortSpec', () => {
    const text = '1-1024,3306,6379,8000-8100,27017-27018';
    assert.equal(renderPortSpec(parsed(text)), text);
  });
});

describe('countPorts', () => {
  it('counts every port of every interval, ends included', () => {
    assert.equal(countPorts(parsed('1-1024,3306,6379,27017-27018')), 1024 + 1 + 1 + 2);
    assert.equal(countPorts([]), 0);
  });

  it('counts 65535 ports in ALL_PORTS', () => {
    assert.equal(countPorts(ALL_PORTS), 65535);
    assert.equal(renderPortSpec(ALL_PORTS), '1-65535');
  });
});

describe('portKey', () => {
  it('joins port and protocol with a slash', () => {
    assert.equal(portKey(6379, 'tcp'), '6379/tcp');
    assert.equal(portKey(53, 'udp'), '53/udp');
  });
});

describe('parsePortKey', () => {
  it('reads a port from 1 to 65535 and tcp, udp or sctp as its key', () => {
    assert.equal(parsePortKey('22/tcp'), '22/tcp');
    assert.equal(parsePortKey('65535/udp'), '65535/udp');
    assert.equal(parsePortKey('1/sctp'), '1/sctp');
  });

  it('refuses a port outside 1-65535, a missing or unknown protocol and a service name', () => {
    for (const text of ['0/tcp', '65536/tcp', '22', '22/TCP', '22/icmp', 'ssh/tcp', ' 22/tcp', '22/tcp ']) {
      assert.equal(parsePortKey(text), undefined, text);
    }
  });
});
