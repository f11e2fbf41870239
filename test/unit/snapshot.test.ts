import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultConfig } from '../../src/config/schema.ts';
import type { ClassificationRules } from '../../src/exposure/classify.ts';
import { buildClassificationRules } from '../../src/state/exporter-config.ts';
import { NO_INVENTORY, UNKNOWN_OWNER } from '../../src/inventory/inventory.ts';
import type { AddressOwner, InventorySnapshot } from '../../src/inventory/inventory.ts';
import {
  buildSnapshot,
  compareHosts,
  diffSnapshots,
  reclassifySnapshot,
  summarizeHosts,
} from '../../src/exposure/snapshot.ts';
import type { Snapshot } from '../../src/exposure/snapshot.ts';
import type { ObservedHost, ObservedPort, ScanResult } from '../../src/scan/types.ts';
import { scanResult } from '../support/snapshots.ts';
import { SHOP_DB } from '../support/owners.ts';
import { BLOG_MYSQL_EXCEPTION, rulesWith } from '../support/config.ts';

function defaultRules(): ClassificationRules {
  return buildClassificationRules(defaultConfig());
}

const T1 = new Date('2026-11-26T01:00:41.237Z');
const T2 = new Date('2026-11-26T02:00:39.512Z');
const T3 = new Date('2026-11-26T03:00:40.008Z');

const TCP: Record<number, string> = {
  22: 'ssh',
  80: 'http',
  443: 'https',
  6379: 'redis',
  27017: 'mongod',
  9200: 'wap-wsp',
};

function tcp(port: number): ObservedPort {
  return { port, protocol: 'tcp', service: TCP[port] ?? '' };
}

function host(ip: string, ports: readonly number[]): ObservedHost {
  return { ip, openPorts: ports.map(tcp) };
}

/** A scan that took 40 seconds and finished at `finishedAt`. */
function scanAt(finishedAt: Date, hosts: readonly ObservedHost[]): ScanResult {
  return scanResult(hosts, finishedAt, {
    startedAt: new Date(finishedAt.getTime() - 40_000),
    nmapArgs: [['-sT', '-n', '--open', '-p', '22,80,443,6379,27017', '-oX', '-', '-iL', '-']],
    targets: 256,
    hostsUp: hosts.length + 3,
  });
}

function inventoryOf(owners: Record<string, AddressOwner>): InventorySnapshot {
  return {
    source: 'openstack',
    up: true,
    syncedAt: new Date('2026-11-26T00:55:00.000Z'),
    servers: 240,
    publicAddresses: [],
    warnings: [],
    security: new Map(),
    owners: new Map(Object.entries(owners)),
  };
}

function snapshotOf(
  finishedAt: Date,
  hosts: readonly ObservedHost[],
  options: { previous?: Snapshot; config?: ClassificationRules; inventory?: InventorySnapshot } = {},
): Snapshot {
  return buildSnapshot({
    result: scanAt(finishedAt, hosts),
    inventory: options.inventory ?? NO_INVENTORY,
    rules: options.config ?? defaultRules(),
    previous: options.previous,
  });
}

/** `ip port/protocol firstSeen` per port, so a failing assertion reads as a table. */
function firstSeenTable(snapshot: Snapshot): string[] {
  return snapshot.hosts.flatMap((h) =>
    h.ports.map((p) => `${h.ip} ${p.port}/${p.protocol} ${p.firstSeen.toISOString()}`),
  );
}

describe('buildSnapshot', () => {
  describe('hosts nmap gave up on', () => {
    it('keep their previous ports and first-seen times instead of counting as closed', () => {
      const first = snapshotOf(T1, [host('203.0.113.7', [22, 6379]), host('203.0.113.8', [27017])]);
      const second = buildSnapshot({
        result: scanResult([host('203.0.113.8', [27017])], T2, { timedOutHosts: ['203.0.113.7'] }),
        inventory: NO_INVENTORY,
        rules: defaultRules(),
        previous: first,
      });
      assert.deepEqual(firstSeenTable(second), [
        `203.0.113.7 22/tcp ${T1.toISOString()}`,
        `203.0.113.7 6379/tcp ${T1.toISOString()}`,
        `203.0.113.8 27017/tcp ${T1.toISOString()}`,
      ]);
      assert.deepEqual(second.changes, { opened: [], closed: [] });
    });

    it('contribute nothing when there is no previous snapshot', () => {
      const snapshot = buildSnapshot({
        result: scanResult([], T1, { timedOutHosts: ['203.0.113.7'] }),
        inventory: NO_INVENTORY,
        rules: defaultRules(),
        previous: undefined,
      });
      assert.deepEqual(snapshot.hosts, []);
    });
  });

  describe('first-seen times', () => {
    it('the first snapshot marks every open port first seen when the scan finished', () => {
      const snapshot = snapshotOf(T1, [host('203.0.113.7', [22, 6379])]);
      assert.deepEqual(firstSeenTable(snapshot), [
        `203.0.113.7 22/tcp ${T1.toISOString()}`,
        `203.0.113.7 6379/tcp ${T1.toISOString()}`,
      ]);
    });

    it('a port still open keeps its first-seen time and a newly open one gets the scan finish time', () => {
      const first = snapshotOf(T1, [host('203.0.113.7', [22, 6379])]);
      const second = snapshotOf(T2, [host('203.0.113.7', [22, 6379, 27017])], { previous: first });
      assert.deepEqual(firstSeenTable(second), [
        `203.0.113.7 22/tcp ${T1.toISOString()}`,
        `203.0.113.7 6379/tcp ${T1.toISOString()}`,
        `203.0.113.7 27017/tcp ${T2.toISOString()}`,
      ]);
    });

    it('a port that closes and reopens gets a new first-seen time', () => {
      const first = snapshotOf(T1, [host('203.0.113.7', [22, 6379])]);
      const second = snapshotOf(T2, [host('203.0.113.7', [22])], { previous: first });
      const third = snapshotOf(T3, [host('203.0.113.7', [22, 6379])], { previous: second });
      assert.deepEqual(firstSeenTable(third), [
        `203.0.113.7 22/tcp ${T1.toISOString()}`,
        `203.0.113.7 6379/tcp ${T3.toISOString()}`,
      ]);
    });

    it('the same port number on another address is a different port', () => {
      const first = snapshotOf(T1, [host('203.0.113.7', [6379])]);
      const second = snapshotOf(T2, [host('203.0.113.7', [6379]), host('203.0.113.8', [6379])], { previous: first });
      assert.deepEqual(firstSeenTable(second), [
        `203.0.113.7 6379/tcp ${T1.toISOString()}`,
        `203.0.113.8 6379/tcp ${T2.toISOString()}`,
      ]);
    });
  });

  describe('changes', () => {
    it('the first snapshot has no changes: it is a baseline', () => {
      const snapshot = snapshotOf(T1, [host('203.0.113.7', [22, 6379])]);
      assert.deepEqual(snapshot.changes, { opened: [], closed: [] });
    });

    it('a port open now and not before is counted as opened', () => {
      const first = snapshotOf(T1, [host('203.0.113.7', [22])]);
      const second = snapshotOf(T2, [host('203.0.113.7', [22, 6379])], { previous: first });
      assert.deepEqual(second.changes, { opened: [{ ip: '203.0.113.7', port: 6379, protocol: 'tcp' }], closed: [] });
    });

    it('a port closed since the last scan is counted as closed', () => {
      const first = snapshotOf(T1, [host('203.0.113.7', [22, 27017])]);
      const second = snapshotOf(T2, [host('203.0.113.7', [22])], { previous: first });
      assert.deepEqual(second.changes, { opened: [], closed: [{ ip: '203.0.113.7', port: 27017, protocol: 'tcp' }] });
    });

    it('a host that disappears closes all its ports and a new host opens all of its', () => {
      const first = snapshotOf(T1, [host('203.0.113.7', [22, 6379])]);
      const second = snapshotOf(T2, [host('203.0.113.9', [443])], { previous: first });
      assert.deepEqual(second.changes, {
        opened: [{ ip: '203.0.113.9', port: 443, protocol: 'tcp' }],
        closed: [
          { ip: '203.0.113.7', port: 22, protocol: 'tcp' },
          { ip: '203.0.113.7', port: 6379, protocol: 'tcp' },
        ],
      });
    });

    it('an unchanged scan has no changes', () => {
      const first = snapshotOf(T1, [host('203.0.113.7', [22, 6379])]);
      const second = snapshotOf(T2, [host('203.0.113.7', [22, 6379])], { previous: first });
      assert.deepEqual(second.changes, { opened: [], closed: [] });
    });
  });

  describe('ordering', () => {
    it('sorts hosts by numeric address, IPv4 before IPv6', () => {
      const snapshot = snapshotOf(T1, [
        host('2001:db8::10', [6379]),
        host('203.0.113.10', [6379]),
        host('2001:db8::9', [6379]),
        host('10.0.0.10', [6379]),
        host('203.0.113.9', [6379]),
        host('10.0.0.9', [6379]),
      ]);
      assert.deepEqual(
        snapshot.hosts.map((h) => h.ip),
        ['10.0.0.9', '10.0.0.10', '203.0.113.9', '203.0.113.10', '2001:db8::9', '2001:db8::10'],
      );
    });

    it('sorts ports by protocol, then number', () => {
      const snapshot = snapshotOf(T1, [
        {
          ip: '203.0.113.7',
          openPorts: [tcp(27017), { port: 53, protocol: 'udp', service: 'domain' }, tcp(22), tcp(6379)],
        },
      ]);
      assert.deepEqual(
        snapshot.hosts[0]?.ports.map((p) => `${p.port}/${p.protocol}`),
        ['22/tcp', '6379/tcp', '27017/tcp', '53/udp'],
      );
    });
  });

  describe('hosts', () => {
    it('leaves out hosts with no open port', () => {
      const snapshot = snapshotOf(T1, [host('203.0.113.7', [6379]), host('203.0.113.8', [])]);
      assert.deepEqual(
        snapshot.hosts.map((h) => h.ip),
        ['203.0.113.7'],
      );
    });

    it('takes the owner from the inventory and marks an address it does not list with owner_kind unknown', () => {
      const snapshot = snapshotOf(T1, [host('203.0.113.7', [6379]), host('203.0.113.8', [6379])], {
        inventory: inventoryOf({ '203.0.113.7': SHOP_DB }),
      });
      assert.deepEqual(snapshot.hosts[0]?.owner, SHOP_DB);
      assert.deepEqual(snapshot.hosts[1]?.owner, { ...UNKNOWN_OWNER, ownerKind: 'unknown' });
      assert.equal(snapshot.hosts[1]?.owner.tenant, '');
    });

    it('gives every address the empty owner when no inventory is configured', () => {
      const snapshot = snapshotOf(T1, [host('203.0.113.8', [6379])], { inventory: NO_INVENTORY });
      assert.deepEqual(snapshot.hosts[0]?.owner, UNKNOWN_OWNER);
    });

    it('marks a host suspicious when it has a nonstandard port, and not for standard ports alone', () => {
      const snapshot = snapshotOf(T1, [host('203.0.113.7', [22, 6379]), host('203.0.113.8', [22, 80, 443])]);
      assert.deepEqual(
        snapshot.hosts.map((h) => [h.ip, h.suspicious]),
        [
          ['203.0.113.7', true],
          ['203.0.113.8', false],
        ],
      );
    });

    it('classifies each port with its service name kept for information only', () => {
      const snapshot = snapshotOf(T1, [host('203.0.113.7', [22, 9200])]);
      assert.deepEqual(snapshot.hosts[0]?.ports, [
        {
          port: 22,
          protocol: 'tcp',
          service: 'ssh',
          class: 'standard',
          severity: null,
          exception: null,
          firstSeen: T1,
          admittedBy: [],
          portSecurity: null,
        },
        {
          port: 9200,
          protocol: 'tcp',
          service: 'wap-wsp',
          class: 'nonstandard',
          severity: 'high',
          exception: null,
          firstSeen: T1,
          admittedBy: [],
          portSecurity: null,
        },
      ]);
    });

    it('classifies at the time the scan finished, so an exception expiring then no longer applies', () => {
      const config = rulesWith(`
exceptions:
  - name: shop-redis
    match: {ports: ["6379/tcp"]}
    reason: "SEC-123"
    expires: "${T2.toISOString()}"
`);
      assert.equal(snapshotOf(T1, [host('203.0.113.7', [6379])], { config }).hosts[0]?.ports[0]?.class, 'excepted');
      assert.equal(snapshotOf(T2, [host('203.0.113.7', [6379])], { config }).hosts[0]?.ports[0]?.class, 'nonstandard');
    });
  });

  it('copies the scan and inventory facts into the snapshot', () => {
    const snapshot = snapshotOf(T1, [host('203.0.113.7', [6379])], {
      inventory: inventoryOf({ '203.0.113.7': SHOP_DB, '203.0.113.8': { ...SHOP_DB, vmName: 'db-2' } }),
    });
    assert.deepEqual(snapshot.scan, {
      startedAt: new Date('2026-11-26T01:00:01.237Z'),
      finishedAt: T1,
      scope: 'sweep',
      targets: 256,
      addressesScanned: 256,
      hostsUp: 4,
      addressesSilent: 0,
      nmapVersion: '7.93',
      nmapArgs: [['-sT', '-n', '--open', '-p', '22,80,443,6379,27017', '-oX', '-', '-iL', '-']],
    });
    assert.deepEqual(snapshot.inventory, {
      source: 'openstack',
      up: true,
      syncedAt: new Date('2026-11-26T00:55:00.000Z'),
      servers: 240,
      addresses: 2,
    });
  });
});

describe('diffSnapshots', () => {
  it('treats the same port number on another protocol as another port', () => {
    const before = snapshotOf(T1, [
      { ip: '203.0.113.7', openPorts: [{ port: 53, protocol: 'udp', service: 'domain' }] },
    ]);
    const after = snapshotOf(T2, [
      { ip: '203.0.113.7', openPorts: [{ port: 53, protocol: 'tcp', service: 'domain' }] },
    ]);
    assert.deepEqual(diffSnapshots(before, after), {
      opened: [{ ip: '203.0.113.7', port: 53, protocol: 'tcp' }],
      closed: [{ ip: '203.0.113.7', port: 53, protocol: 'udp' }],
    });
  });

  it('counts standard ports too', () => {
    const before = snapshotOf(T1, [host('203.0.113.7', [6379])]);
    const after = snapshotOf(T2, [host('203.0.113.7', [22, 6379])]);
    assert.deepEqual(diffSnapshots(before, after).opened, [{ ip: '203.0.113.7', port: 22, protocol: 'tcp' }]);
  });
});

describe('reclassifySnapshot', () => {
  const first = snapshotOf(T1, [host('203.0.113.7', [22, 6379])], {
    inventory: inventoryOf({ '203.0.113.7': SHOP_DB }),
  });
  const second = snapshotOf(T2, [host('203.0.113.7', [22, 6379, 27017])], {
    previous: first,
    inventory: inventoryOf({ '203.0.113.7': SHOP_DB }),
  });

  it('applies a new exception and keeps first-seen times and changes', () => {
    const rules = rulesWith(`
exceptions:
  - name: shop-redis
    match: {tenant: shop, ports: ["6379/tcp"]}
    reason: "SEC-123"
    expires: 2027-01-31
`);
    const reclassified = reclassifySnapshot(second, rules, T3);
    assert.deepEqual(
      reclassified.hosts[0]?.ports.map((p) => [p.port, p.class, p.severity, p.exception]),
      [
        [22, 'standard', null, null],
        [6379, 'excepted', null, 'shop-redis'],
        [27017, 'nonstandard', 'high', null],
      ],
    );
    assert.deepEqual(firstSeenTable(reclassified), firstSeenTable(second));
    assert.deepEqual(reclassified.changes, second.changes);
    assert.deepEqual(reclassified.scan, second.scan);
  });

  it('recomputes suspicious when every nonstandard port becomes excepted', () => {
    const rules = rulesWith(`
exceptions:
  - name: shop-all
    match: {tenant: shop}
    reason: "SEC-124"
    expires: 2027-01-31
`);
    assert.equal(second.hosts[0]?.suspicious, true);
    assert.equal(reclassifySnapshot(second, rules, T3).hosts[0]?.suspicious, false);
  });

  it('applies new severity overrides', () => {
    const rules = rulesWith('severity_overrides: {"27017/tcp": critical}\n');
    assert.equal(reclassifySnapshot(second, rules, T3).hosts[0]?.ports[2]?.severity, 'critical');
  });

  it('uses the given time for expiry, not the scan time', () => {
    const rules = rulesWith(`
exceptions:
  - name: shop-redis
    match: {ports: ["6379/tcp"]}
    reason: "SEC-123"
    expires: "${T3.toISOString()}"
`);
    assert.equal(reclassifySnapshot(second, rules, new Date(T3.getTime() - 1)).hosts[0]?.ports[1]?.class, 'excepted');
    assert.equal(reclassifySnapshot(second, rules, T3).hosts[0]?.ports[1]?.class, 'nonstandard');
  });

  it('leaves the original snapshot unchanged', () => {
    const rules = rulesWith('standard_ports: ["6379/tcp"]\n');
    reclassifySnapshot(second, rules, T3);
    assert.deepEqual(
      second.hosts[0]?.ports.map((p) => p.class),
      ['standard', 'nonstandard', 'nonstandard'],
    );
  });
});

describe('summarizeHosts', () => {
  it('counts ports by class and nonstandard ports by severity', () => {
    const config = rulesWith(BLOG_MYSQL_EXCEPTION);
    const snapshot = snapshotOf(
      T1,
      [
        host('203.0.113.7', [22, 6379, 27017]),
        host('203.0.113.12', [22, 80, 443, 3306]),
        host('203.0.113.20', [2375, 873, 8080]),
      ],
      { config },
    );
    assert.deepEqual(summarizeHosts(snapshot.hosts), {
      openPorts: 10,
      standardPorts: 4,
      nonstandardPorts: 5,
      exceptedPorts: 1,
      suspiciousHosts: 2,
      bySeverity: { critical: 1, high: 2, medium: 1, low: 1 },
    });
  });

  it('counts zero of everything for no hosts', () => {
    assert.deepEqual(summarizeHosts([]), {
      openPorts: 0,
      standardPorts: 0,
      nonstandardPorts: 0,
      exceptedPorts: 0,
      suspiciousHosts: 0,
      bySeverity: { critical: 0, high: 0, medium: 0, low: 0 },
    });
  });
});

describe('compareHosts', () => {
  it('orders by address value, not by text', () => {
    assert.ok(compareHosts({ ip: '203.0.113.9' }, { ip: '203.0.113.10' }) < 0);
    assert.ok(compareHosts({ ip: '203.0.113.10' }, { ip: '203.0.113.9' }) > 0);
    assert.equal(compareHosts({ ip: '203.0.113.9' }, { ip: '203.0.113.9' }), 0);
  });

  it('puts every IPv4 address before any IPv6 address', () => {
    assert.ok(compareHosts({ ip: '255.255.255.255' }, { ip: '::1' }) < 0);
    assert.ok(compareHosts({ ip: '::1' }, { ip: '0.0.0.0' }) > 0);
  });
});
