import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfigText } from '../../src/config/load.ts';
import { defaultConfig } from '../../src/config/schema.ts';
import { buildExporterConfig } from '../../src/state/exporter-config.ts';

function expandPorts(spec: string): Set<number> {
  const ports = new Set<number>();
  for (const item of spec.split(',')) {
    const [first, last] = item.split('-').map(Number);
    for (let port = first ?? 0; port <= (last ?? first ?? 0); port += 1) ports.add(port);
  }
  return ports;
}

describe('buildExporterConfig', () => {
  it('scans nmap top ports plus every TCP port of the severity table by default', () => {
    const config = buildExporterConfig(defaultConfig());
    const ports = expandPorts(config.plan.ports);
    // Outside nmap's top 1000, and exactly what an exposure monitor must never miss.
    for (const risky of [6379, 27017, 11211, 2375, 2379, 6443, 5601, 9092, 9200, 20000, 44818]) {
      assert.ok(ports.has(risky), `default ports include ${risky}`);
    }
    assert.ok(ports.has(22) && ports.has(3389) && ports.has(8080));
    // nmap 7.93's top 1000 plus the 20 table ports outside it, as the README says.
    assert.equal(ports.size, 1020);
    assert.equal(config.plan.targets.count(), 1);
  });

  it('applies severity overrides over the built-in table', () => {
    const config = buildExporterConfig(
      parseConfigText('severity_overrides: {"8080/tcp": medium, "6379/tcp": critical}\n', 'c.yml'),
    );
    assert.equal(config.rules.severities.get('8080/tcp'), 'medium');
    assert.equal(config.rules.severities.get('6379/tcp'), 'critical');
    assert.equal(config.rules.severities.get('27017/tcp'), 'high');
  });

  it('classifies with the standard ports and exceptions of the settings', () => {
    const settings = parseConfigText(
      'standard_ports: ["22/tcp"]\nexceptions:\n  - {name: a, match: {tenant: shop}, reason: r, expires: 2027-01-31}\n',
      'c.yml',
    );
    const { rules } = buildExporterConfig(settings);
    assert.deepEqual([...rules.standardPorts], ['22/tcp']);
    assert.deepEqual(
      rules.exceptions.map((exception) => exception.name),
      ['a'],
    );
  });

  it('keeps the settings it was built from', () => {
    const settings = defaultConfig();
    assert.equal(buildExporterConfig(settings).settings, settings);
  });
});
