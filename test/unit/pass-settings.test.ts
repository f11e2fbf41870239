import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfigText } from '../../src/config/load.ts';
import { defaultConfig } from '../../src/config/schema.ts';
import { configProblems } from '../support/config.ts';
import { buildExporterConfig } from '../../src/state/exporter-config.ts';

/** Each invalid scan.udp or scan.verify and the exact message it must produce (source name "c.yml"). */
const INVALID: readonly { name: string; yaml: string; message: string }[] = [
  {
    name: 'an unknown key under scan.udp',
    yaml: 'scan:\n  udp: {retries: 1}\n',
    message:
      'c.yml: scan.udp.retries: unknown key (expected one of ports, interval, max_retries, defeat_icmp_ratelimit)',
  },
  {
    name: 'a word in the UDP port list',
    yaml: 'scan:\n  udp: {ports: "53,snmp"}\n',
    message:
      'c.yml: scan.udp.ports: "53,snmp" is not a valid port list: "snmp" is not a port or a range (or use default or none)',
  },
  {
    name: 'a UDP port list that looks like a flag',
    yaml: 'scan:\n  udp: {ports: "-sV"}\n',
    message: 'c.yml: scan.udp.ports: "-sV" must not start with "-" (or use default or none)',
  },
  {
    name: 'a UDP interval shorter than scan.interval',
    yaml: 'scan:\n  interval: 1h\n  timeout: 50m\n  udp: {interval: 10m}\n',
    message: 'c.yml: scan.udp.interval: 10m is shorter than scan.interval (1h); the UDP pass runs at most once a cycle',
  },
  {
    name: 'a UDP interval without a unit',
    yaml: 'scan:\n  udp: {interval: 7200}\n',
    message:
      'c.yml: scan.udp.interval: a number (7200) is not a valid duration (use Prometheus syntax such as 30s, 10m, 1h)',
  },
  {
    name: 'UDP retries out of range',
    yaml: 'scan:\n  udp: {max_retries: 99}\n',
    message: 'c.yml: scan.udp.max_retries: a number (99) must be an integer from 0 to 50',
  },
  {
    name: 'defeat_icmp_ratelimit as a word',
    yaml: 'scan:\n  udp: {defeat_icmp_ratelimit: "yes"}\n',
    message: 'c.yml: scan.udp.defeat_icmp_ratelimit: "yes" must be true or false',
  },
  {
    name: 'an unknown key under scan.verify',
    yaml: 'scan:\n  verify: {enable: true}\n',
    message: 'c.yml: scan.verify.enable: unknown key (expected one of enabled, version_intensity, scripts)',
  },
  {
    name: 'a version intensity past 9',
    yaml: 'scan:\n  verify: {enabled: true, version_intensity: 10}\n',
    message: 'c.yml: scan.verify.version_intensity: a number (10) must be an integer from 0 to 9',
  },
  {
    name: 'a script that is not one of the safe ones',
    yaml: 'scan:\n  verify: {enabled: true, scripts: [redis-info, "vuln"]}\n',
    message: 'c.yml: scan.verify.scripts[1]: "vuln" must be one of redis-info, mongodb-info, memcached-info',
  },
  {
    name: 'a script list smuggling nmap arguments',
    yaml: 'scan:\n  verify: {enabled: true, scripts: ["redis-info --script-args=x"]}\n',
    message:
      'c.yml: scan.verify.scripts[0]: "redis-info --script-args=x" must be one of redis-info, mongodb-info, memcached-info',
  },
  {
    name: 'scripts without verification',
    yaml: 'scan:\n  verify: {scripts: [redis-info]}\n',
    message: 'c.yml: scan.verify.scripts: run only with verification; set scan.verify.enabled: true or remove them',
  },
];

describe('scan.udp and scan.verify', () => {
  for (const { name, yaml, message } of INVALID) {
    it(`refuses ${name}`, () => {
      assert.deepEqual(configProblems(yaml), [message]);
    });
  }

  it('runs the UDP pass by default on the 21 amplifier ports every scan.interval, with one retry', () => {
    const config = defaultConfig();
    assert.deepEqual(config.scan.udp, {
      ports: 'default',
      intervalMs: 3_600_000,
      maxRetries: 2,
      defeatIcmpRateLimit: true,
    });
    assert.equal(
      buildExporterConfig(config).plan.udpPorts,
      '19,53,69,111,123,137,161,389,427,623,1434,1900,3283,3702,5060,5351,5353,5683,10001,11211,37810',
    );
  });

  it('turns the UDP pass off with ports: none', () => {
    const config = parseConfigText('scan:\n  udp: {ports: none}\n', 'c.yml');
    assert.equal(config.scan.udp, undefined);
    assert.equal(buildExporterConfig(config).plan.udpPorts, undefined);
  });

  it('takes a UDP port list in its shortest form, and a longer interval', () => {
    const config = parseConfigText('scan:\n  udp: {ports: "161,53,54,55", interval: 6h, max_retries: 0}\n', 'c.yml');
    assert.equal(config.scan.udp?.ports, '53-55,161');
    assert.equal(config.scan.udp?.intervalMs, 6 * 3_600_000);
    assert.equal(buildExporterConfig(config).plan.udpPorts, '53-55,161');
  });

  it('follows scan.interval when the UDP interval is not given', () => {
    assert.equal(parseConfigText('scan:\n  interval: 2h\n  timeout: 1h\n', 'c.yml').scan.udp?.intervalMs, 7_200_000);
  });

  it('leaves verification off by default, at intensity 2 with no scripts', () => {
    assert.deepEqual(defaultConfig().scan.verify, { enabled: false, versionIntensity: 2, scripts: [] });
  });

  it('keeps each safe script once', () => {
    const config = parseConfigText(
      'scan:\n  verify: {enabled: true, version_intensity: 0, scripts: [redis-info, memcached-info, redis-info]}\n',
      'c.yml',
    );
    assert.deepEqual(config.scan.verify, {
      enabled: true,
      versionIntensity: 0,
      scripts: ['redis-info', 'memcached-info'],
    });
  });

  it('takes UDP keys in standard_ports and severity_overrides', () => {
    const config = parseConfigText(
      'standard_ports: ["22/tcp", "123/udp"]\nseverity_overrides: {"5351/udp": high}\n',
      'c.yml',
    );
    assert.ok(config.standardPorts.has('123/udp'));
    assert.equal(config.severityOverrides.get('5351/udp'), 'high');
  });
});
