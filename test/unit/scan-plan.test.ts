import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfigText } from '../../src/config/load.ts';
import {
  buildKnownTargets,
  buildScanPlan,
  expandPortsSetting,
  expandUdpPortsSetting,
} from '../../src/targets/scan-plan.ts';

const RISKY = { riskyPorts: [6379, 27017, 22], riskyUdpPorts: [161, 5683] };

function planFor(yaml: string, overrides = {}) {
  return buildScanPlan(parseConfigText(yaml, 'c.yml', overrides).scan, RISKY);
}

describe('buildScanPlan', () => {
  it("keeps this replica's targets, and the replicas' parts add up to all of them", () => {
    const yaml = 'scan:\n  targets: ["10.0.0.0/24"]\n  shard: "1/2"\n';
    const one = planFor(yaml);
    const other = planFor(yaml, { shard: { index: 0, count: 2 } });
    assert.ok(one.targets.count() > 0 && one.targets.count() < 256, `count ${one.targets.count()}`);
    assert.equal(other.targets.count() + one.targets.count(), 256);
    const mine = new Set(one.targets.addresses());
    assert.deepEqual(
      [...other.targets.addresses()].filter((address) => mine.has(address)),
      [],
    );
  });

  it('scans every target after exclusion without sharding', () => {
    const plan = planFor('scan:\n  targets: ["10.0.0.0/30", "2001:db8::/127"]\n  exclude: ["10.0.0.1"]\n');
    assert.deepEqual([...plan.targets.addresses()], ['10.0.0.0', '10.0.0.2', '10.0.0.3', '2001:db8::', '2001:db8::1']);
    assert.deepEqual([...plan.targets.nmapTargets(4)], ['10.0.0.0', '10.0.0.2/31']);
  });

  it('uses an explicit port list as the config wrote it, in its shortest form', () => {
    assert.equal(planFor('scan: {ports: "6379,22,21-23"}\n').ports, '21-23,6379');
    assert.equal(planFor('scan: {ports: 8080}\n').ports, '8080');
  });
});

describe('expandPortsSetting', () => {
  it('expands all to every TCP port', () => {
    assert.equal(expandPortsSetting('all', RISKY), '1-65535');
  });

  it('expands default to nmap top 1000 plus the risky ports given, each once', () => {
    const top = expandPorts(expandPortsSetting('default', { riskyPorts: [] }));
    assert.equal(top.size, 1000);
    const ports = expandPorts(expandPortsSetting('default', RISKY));
    // 6379 and 27017 are outside nmap's top 1000; 22 is in it and is not counted twice.
    assert.equal(ports.size, 1002);
    assert.ok(ports.has(6379) && ports.has(27017) && !top.has(6379));
    assert.equal(
      expandPortsSetting('default', { riskyPorts: [22, 80] }),
      expandPortsSetting('default', { riskyPorts: [] }),
    );
  });

  it('leaves a port list as it is', () => {
    assert.equal(expandPortsSetting('1-1024,3306', RISKY), '1-1024,3306');
  });
});

function expandPorts(spec: string): Set<number> {
  const ports = new Set<number>();
  for (const item of spec.split(',')) {
    const [first, last] = item.split('-').map(Number);
    for (let port = first ?? 0; port <= (last ?? first ?? 0); port += 1) ports.add(port);
  }
  return ports;
}

describe('buildKnownTargets', () => {
  const WITH_INVENTORY = 'inventory_file: {path: inventory.yml}\n';

  it('keeps only the known addresses inside the targets and outside the exclusions', () => {
    const plan = planFor(`scan:\n  targets: ["10.0.0.0/29"]\n  exclude: ["10.0.0.5"]\n${WITH_INVENTORY}`);
    const known = buildKnownTargets(plan, ['10.0.0.3', '10.0.0.5', '10.0.0.8', '192.168.1.7', '2001:db8::1']);
    assert.deepEqual(known.addresses, ['10.0.0.3']);
    assert.deepEqual([...known.nmapTargets(4)], ['10.0.0.3']);
    assert.deepEqual([...known.nmapTargets(6)], []);
  });

  it("keeps only this replica's share, the same addresses a sweep of the shard would scan", () => {
    const yaml = `scan:\n  targets: ["10.0.0.0/24"]\n  shard: "1/3"\n${WITH_INVENTORY}`;
    const plan = planFor(yaml);
    const all = Array.from({ length: 256 }, (_, i) => `10.0.0.${i}`);
    const known = buildKnownTargets(plan, all);
    assert.ok(known.count() > 0 && known.count() < 256, `count ${known.count()}`);
    assert.deepEqual(known.addresses, [...plan.targets.addresses()]);
  });

  it('writes each address once, canonical and in address order, IPv4 before IPv6, and drops text that is no address', () => {
    const plan = planFor(`scan:\n  targets: ["10.0.0.0/24", "2001:db8::/120"]\n${WITH_INVENTORY}`);
    const known = buildKnownTargets(plan, [
      '2001:DB8::0:10',
      '10.0.0.10',
      '10.0.0.9',
      '10.0.0.10',
      'vm-1',
      '10.0.0.300',
    ]);
    assert.deepEqual(known.addresses, ['10.0.0.9', '10.0.0.10', '2001:db8::10']);
    assert.equal(known.countFamily(4), 2);
    assert.equal(known.countFamily(6), 1);
  });

  it('scans the known addresses of a range too large to sweep, which the sweep targets leave out', () => {
    const plan = planFor(`scan:\n  targets: ["2001:db8::/64", "10.0.0.0/30"]\n${WITH_INVENTORY}`);
    assert.equal(plan.targets.count(), 4, 'the /64 is not swept');
    assert.deepEqual(buildKnownTargets(plan, ['2001:db8::abcd', '2001:db9::1']).addresses, ['2001:db8::abcd']);
  });
});

describe('expandUdpPortsSetting', () => {
  it('is the 21 amplifier ports with the risky UDP ports added, and a port list as it is', () => {
    const defaults = expandUdpPortsSetting('default', { riskyUdpPorts: [] });
    assert.equal(defaults.split(',').length, 21);
    assert.equal(
      expandUdpPortsSetting('default', { riskyUdpPorts: [161, 9999] }),
      defaults.replace(',10001', ',9999,10001'),
    );
    assert.equal(expandUdpPortsSetting('53,161', { riskyUdpPorts: [9999] }), '53,161');
  });
});
