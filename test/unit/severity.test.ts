import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BUILTIN_SEVERITIES,
  SEVERITIES,
  buildSeverityTable,
  builtinRiskyTcpPorts,
  severityOf,
} from '../../src/exposure/severity.ts';
import type { Severity } from '../../src/exposure/severity.ts';

/** The built-in severity table (docs/severities.md), written out port by port so a change to it is a visible change to this list. */
const DOCUMENTED_TABLE: Record<Exclude<Severity, 'low'>, number[]> = {
  critical: [2375, 2376, 6443, 2379, 4786, 5555, 502, 102, 20000, 44818],
  high: [
    3306, 5432, 1433, 1521, 6379, 27017, 27018, 9200, 9300, 5601, 11211, 5984, 9042, 9092, 3389, 5900, 23, 445, 139,
    135, 389, 4369,
  ],
  medium: [21, 873, 111, 1080, 1883, 5672, 88],
};

/** The UDP reflectors of the same table. */
const DOCUMENTED_UDP_TABLE: Record<'high' | 'medium', number[]> = {
  high: [161, 1900, 11211, 389, 137, 623, 1434, 5060, 427, 3283, 10001, 37810],
  medium: [53, 123, 19, 111, 5353, 3702, 69, 5683],
};

describe('the built-in severity table', () => {
  for (const [severity, ports] of Object.entries(DOCUMENTED_TABLE)) {
    for (const port of ports) {
      it(`rates ${port}/tcp ${severity}`, () => {
        assert.equal(severityOf(BUILTIN_SEVERITIES, port, 'tcp'), severity);
      });
    }
  }

  it('rates ports outside the table low', () => {
    for (const port of [1, 8080, 8443, 9201, 27019, 65535]) {
      assert.equal(severityOf(BUILTIN_SEVERITIES, port, 'tcp'), 'low', `${port}/tcp`);
    }
  });

  it('keys entries by protocol too, so 6379/udp is low and 161/tcp too', () => {
    assert.equal(severityOf(BUILTIN_SEVERITIES, 6379, 'udp'), 'low');
    assert.equal(severityOf(BUILTIN_SEVERITIES, 161, 'tcp'), 'low');
    assert.equal(severityOf(BUILTIN_SEVERITIES, 2375, 'sctp'), 'low');
  });

  for (const [severity, ports] of Object.entries(DOCUMENTED_UDP_TABLE)) {
    it(`rates the UDP reflectors ${ports.join(', ')} ${severity}`, () => {
      assert.deepEqual(
        ports.map((port) => severityOf(BUILTIN_SEVERITIES, port, 'udp')),
        ports.map(() => severity),
      );
    });
  }

  it('holds exactly the documented TCP and UDP ports', () => {
    const entries = (table: Record<string, number[]>, protocol: string) =>
      Object.entries(table).flatMap(([severity, ports]) => ports.map((port) => `${port}/${protocol}=${severity}`));
    const expected = [...entries(DOCUMENTED_TABLE, 'tcp'), ...entries(DOCUMENTED_UDP_TABLE, 'udp')].sort();
    const actual = [...BUILTIN_SEVERITIES].map(([key, severity]) => `${key}=${severity}`).sort();
    assert.deepEqual(actual, expected);
    assert.equal(BUILTIN_SEVERITIES.size, 59);
  });

  it('orders severities from worst to least', () => {
    assert.deepEqual(SEVERITIES, ['critical', 'high', 'medium', 'low']);
  });
});

describe('buildSeverityTable', () => {
  it('adds unlisted ports and replaces built-in entries', () => {
    const table = buildSeverityTable(
      new Map<string, Severity>([
        ['8080/tcp', 'medium'],
        ['6379/tcp', 'critical'],
      ]),
    );
    assert.equal(severityOf(table, 8080, 'tcp'), 'medium');
    assert.equal(severityOf(table, 6379, 'tcp'), 'critical');
    assert.equal(severityOf(table, 27017, 'tcp'), 'high');
    assert.equal(table.size, 60);
  });

  it('can lower a built-in entry to low', () => {
    const table = buildSeverityTable(new Map<string, Severity>([['2375/tcp', 'low']]));
    assert.equal(severityOf(table, 2375, 'tcp'), 'low');
  });

  it('leaves the built-in table unchanged', () => {
    buildSeverityTable(
      new Map<string, Severity>([
        ['6379/tcp', 'low'],
        ['8080/tcp', 'critical'],
      ]),
    );
    assert.equal(BUILTIN_SEVERITIES.get('6379/tcp'), 'high');
    assert.equal(BUILTIN_SEVERITIES.has('8080/tcp'), false);
  });
});

describe('builtinRiskyTcpPorts', () => {
  it('lists every port of the built-in table once', () => {
    const expected = Object.values(DOCUMENTED_TABLE)
      .flat()
      .sort((a, b) => a - b);
    assert.deepEqual(
      [...builtinRiskyTcpPorts()].sort((a, b) => a - b),
      expected,
    );
  });

  it('includes the risky ports outside nmap top 1000 that the built-in table names', () => {
    const ports = new Set(builtinRiskyTcpPorts());
    for (const port of [6379, 27017, 11211, 2375, 2379, 6443, 5601, 9092]) {
      assert.ok(ports.has(port), `${port} missing`);
    }
  });

  it('returns port numbers, not keys', () => {
    assert.ok(builtinRiskyTcpPorts().every((port) => Number.isInteger(port) && port >= 1 && port <= 65535));
  });
});
