import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfigText } from '../../src/config/load.ts';
import { buildScanPlan, expandPortsSetting } from '../../src/scan/scan-plan.ts';

const RISKY = { riskyPorts: [6379, 27017, 22] };

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
    assert.deepEqual([...other.targets.addresses()].filter((address) => mine.has(address)), []);
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
    assert.equal(expandPortsSetting('default', { riskyPorts: [22, 80] }), expandPortsSetting('default', { riskyPorts: [] }));
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
