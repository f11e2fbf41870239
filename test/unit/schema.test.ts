import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfigText } from '../../src/config/load.ts';
import { DEFAULTS, defaultConfig } from '../../src/config/schema.ts';
import { ConfigError } from '../../src/errors.ts';

/** Each invalid config and the exact message it must produce (source name "c.yml"). */
const INVALID: readonly { name: string; yaml: string; message: string }[] = [
  {
    name: 'an unknown top-level key',
    yaml: 'scna: {}\n',
    message:
      'c.yml: scna: unknown key (expected one of scan, standard_ports, severity_overrides, exceptions, openstack, inventory_file, state, history)',
  },
  {
    name: 'an unknown nested key',
    yaml: 'scan:\n  nmap:\n    timing: 4\n',
    message:
      'c.yml: scan.nmap.timing: unknown key (expected one of path, scan_type, host_discovery, timing_template, max_rtt_timeout, max_retries, min_rate, max_rate, host_timeout)',
  },
  {
    name: 'a CIDR with a prefix past 32',
    yaml: 'scan:\n  targets: ["10.0.0.1", "10.0.0.0/24", "10.0.0.0/33"]\n',
    message: 'c.yml: scan.targets[2]: "10.0.0.0/33" is not a valid CIDR',
  },
  {
    name: 'a target that starts with a dash',
    yaml: 'scan:\n  targets: ["-iL/etc/passwd"]\n',
    message: 'c.yml: scan.targets[0]: "-iL/etc/passwd" must not start with "-"',
  },
  {
    name: 'a hostname target',
    yaml: 'scan:\n  targets: [example.com]\n',
    message: 'c.yml: scan.targets[0]: "example.com" is not a valid IP address',
  },
  {
    name: 'a backwards range',
    yaml: 'scan:\n  targets: ["10.0.0.20-10.0.0.10"]\n',
    message: 'c.yml: scan.targets[0]: "10.0.0.20-10.0.0.10" is not a valid range: start is after end',
  },
  {
    name: 'a range that mixes families',
    yaml: 'scan:\n  targets: ["10.0.0.1-2001:db8::1"]\n',
    message:
      'c.yml: scan.targets[0]: "10.0.0.1-2001:db8::1" is not a valid range: both ends must be of the same address family',
  },
  {
    name: 'targets given as a string',
    yaml: 'scan:\n  targets: 10.0.0.0/24\n',
    message: 'c.yml: scan.targets: must be a list of strings, got a string ("10.0.0.0/24")',
  },
  {
    name: 'an empty target list',
    yaml: 'scan:\n  targets: []\n',
    message: 'c.yml: scan.targets: must list at least one target',
  },
  {
    name: 'targets past max_targets',
    yaml: 'scan:\n  targets: ["10.0.0.0/8"]\n',
    message: 'c.yml: scan.targets: expands to 16777216 addresses after exclusion, more than scan.max_targets (65536)',
  },
  {
    name: 'an IPv6 /64 past max_targets',
    yaml: 'scan:\n  targets: ["2001:db8::/64"]\n  max_targets: 1000\n',
    message:
      'c.yml: scan.targets: expands to 18446744073709551616 addresses after exclusion, more than scan.max_targets (1000)',
  },
  {
    name: 'ranges that each fit max_targets but together do not, with an inventory',
    yaml: 'scan:\n  targets: ["10.0.0.0/23", "10.0.4.0/23"]\n  max_targets: 1000\ninventory_file: {path: inventory.yml}\n',
    message: 'c.yml: scan.targets: expands to 1024 addresses after exclusion, more than scan.max_targets (1000)',
  },
  {
    name: 'a sweep_timeout not below sweep_interval',
    yaml: 'scan:\n  sweep_interval: 6h\n  sweep_timeout: 6h\n',
    message: 'c.yml: scan.sweep_timeout: 6h must be longer than 0s and shorter than scan.sweep_interval (6h)',
  },
  {
    name: 'a zero sweep_interval',
    yaml: 'scan:\n  sweep_interval: 0s\n',
    message: 'c.yml: scan.sweep_interval: must be longer than 0s',
  },
  {
    name: 'an inventory_file without a path',
    yaml: 'inventory_file: {refresh_interval: 1m}\n',
    message: 'c.yml: inventory_file.path: is required',
  },
  {
    name: 'an unknown inventory_file key',
    yaml: 'inventory_file: {path: inventory.yml, url: "http://cmdb"}\n',
    message: 'c.yml: inventory_file.url: unknown key (expected one of path, refresh_interval, max_bytes)',
  },
  {
    name: 'a zero inventory_file refresh_interval',
    yaml: 'inventory_file: {path: inventory.yml, refresh_interval: 0s}\n',
    message: 'c.yml: inventory_file.refresh_interval: must be longer than 0s',
  },
  {
    name: 'an exclusion that removes everything',
    yaml: 'scan:\n  targets: ["10.0.0.0/30"]\n  exclude: ["10.0.0.0/29"]\n',
    message: 'c.yml: scan.exclude: excludes every address of scan.targets',
  },
  {
    name: 'a malformed exclusion',
    yaml: 'scan:\n  exclude: ["10.0.0.300"]\n',
    message: 'c.yml: scan.exclude[0]: "10.0.0.300" is not a valid IP address',
  },
  {
    name: 'a port list with a word in it',
    yaml: 'scan:\n  ports: "22,ssh"\n',
    message:
      'c.yml: scan.ports: "22,ssh" is not a valid port list: "ssh" is not a port or a range (or use default or all)',
  },
  {
    name: 'a port list that smuggles a flag',
    yaml: 'scan:\n  ports: "-sV"\n',
    message: 'c.yml: scan.ports: "-sV" must not start with "-" (or use default or all)',
  },
  {
    name: 'a port past 65535',
    yaml: 'scan:\n  ports: "1-70000"\n',
    message: 'c.yml: scan.ports: "1-70000" is not a valid port list: 70000 is outside 1-65535 (or use default or all)',
  },
  {
    name: 'a duration without a unit',
    yaml: 'scan:\n  interval: 3600\n',
    message:
      'c.yml: scan.interval: a number (3600) is not a valid duration (use Prometheus syntax such as 30s, 10m, 1h)',
  },
  {
    name: 'a duration in the wrong syntax',
    yaml: 'scan:\n  interval: 1hour\n',
    message: 'c.yml: scan.interval: "1hour" is not a valid duration (use Prometheus syntax such as 30s, 10m, 1h)',
  },
  {
    name: 'a timeout not shorter than the interval',
    yaml: 'scan:\n  interval: 1h\n  timeout: 1h\n',
    message: 'c.yml: scan.timeout: 1h must be longer than 0s and shorter than scan.interval (1h)',
  },
  {
    name: 'an unknown scan type',
    yaml: 'scan:\n  nmap:\n    scan_type: fast\n',
    message: 'c.yml: scan.nmap.scan_type: "fast" must be one of auto, syn, connect',
  },
  {
    name: 'a timing template past 5',
    yaml: 'scan:\n  nmap:\n    timing_template: 7\n',
    message: 'c.yml: scan.nmap.timing_template: a number (7) must be an integer from 0 to 5',
  },
  {
    name: 'an RTT timeout nmap would refuse',
    yaml: 'scan:\n  nmap:\n    max_rtt_timeout: 3ms\n',
    message: "c.yml: scan.nmap.max_rtt_timeout: 3ms is shorter than nmap's minimum of 5ms",
  },
  {
    name: 'an nmap path that is a flag',
    yaml: 'scan:\n  nmap:\n    path: "--script=evil"\n',
    message: 'c.yml: scan.nmap.path: "--script=evil" must not start with "-"',
  },
  {
    name: 'host discovery as a word',
    yaml: 'scan:\n  nmap:\n    host_discovery: "no"\n',
    message: 'c.yml: scan.nmap.host_discovery: "no" must be true or false',
  },
  {
    name: 'a standard port without protocol',
    yaml: 'standard_ports: ["22", "80/tcp"]\n',
    message: 'c.yml: standard_ports[0]: "22" is not a port/protocol such as 22/tcp',
  },
  {
    name: 'an unknown severity',
    yaml: 'severity_overrides:\n  "8080/tcp": urgent\n',
    message: 'c.yml: severity_overrides["8080/tcp"]: "urgent" must be one of critical, high, medium, low',
  },
  {
    name: 'an override keyed by service name',
    yaml: 'severity_overrides:\n  redis: low\n',
    message: 'c.yml: severity_overrides.redis: "redis" is not a port/protocol such as 22/tcp',
  },
  {
    name: 'an exception without expiry and reason',
    yaml: 'exceptions:\n  - name: a\n    match: {ports: ["3306/tcp"]}\n',
    message: 'c.yml: exceptions[0].reason: is required\nc.yml: exceptions[0].expires: is required',
  },
  {
    name: 'an exception with an impossible date',
    yaml: 'exceptions:\n  - {name: a, match: {tenant: shop}, reason: r, expires: 2027-02-30}\n',
    message: 'c.yml: exceptions[0].expires: "2027-02-30" is not a date (YYYY-MM-DD) or an RFC 3339 time',
  },
  {
    name: 'an exception that matches everything',
    yaml: 'exceptions:\n  - {name: a, match: {}, reason: r, expires: 2027-01-01}\n',
    message: 'c.yml: exceptions[0].match: must name at least one of tenant, vm_name, ip, ports',
  },
  {
    name: 'two exceptions with one name',
    yaml:
      'exceptions:\n  - {name: a, match: {tenant: x}, reason: r, expires: 2027-01-01}\n' +
      '  - {name: a, match: {tenant: y}, reason: r, expires: 2027-01-01}\n',
    message: 'c.yml: exceptions[1].name: "a" is already used by exceptions[0]',
  },
  {
    name: 'an exception with a bad address',
    yaml: 'exceptions:\n  - {name: a, match: {ip: "203.0.113.0/40"}, reason: r, expires: 2027-01-01}\n',
    message: 'c.yml: exceptions[0].match.ip: "203.0.113.0/40" is not a valid CIDR',
  },
  {
    name: 'an unknown OpenStack interface',
    yaml: 'openstack:\n  interface: private\n',
    message: 'c.yml: openstack.interface: "private" must be one of public, internal, admin',
  },
  {
    name: 'an unknown OpenStack key',
    yaml: 'openstack:\n  password: hunter2\n',
    message:
      'c.yml: openstack.password: unknown key (expected one of cloud, clouds_file, region_name, interface, refresh_interval, request_timeout)',
  },
  {
    name: 'an OpenStack request timeout of zero',
    yaml: 'openstack:\n  request_timeout: "0"\n',
    message: 'c.yml: openstack.request_timeout: must be longer than 0s',
  },
  {
    name: 'an empty state path',
    yaml: 'state:\n  path: ""\n',
    message: 'c.yml: state.path: must not be empty',
  },
  {
    name: 'a duplicated key',
    yaml: 'scan:\n  interval: 1h\n  interval: 2h\n',
    message: 'c.yml: line 3, column 3: Map keys must be unique',
  },
  {
    name: 'broken YAML',
    yaml: 'scan: [\n',
    message:
      'c.yml: line 2, column 1: Flow sequence in block collection must be sufficiently indented and end with a ]',
  },
  {
    name: 'a top level that is a list',
    yaml: '- scan\n',
    message: 'c.yml: (root): must be a mapping, got a list',
  },
];

describe('config validation', () => {
  for (const fixture of INVALID) {
    it(`rejects ${fixture.name} with a message naming the path and value`, () => {
      assert.throws(
        () => parseConfigText(fixture.yaml, 'c.yml'),
        (err: unknown) => {
          assert.ok(err instanceof ConfigError);
          assert.equal(err.code, 'CONFIG_INVALID');
          assert.equal(err.message, fixture.message);
          return true;
        },
      );
    });
  }

  it('reports every problem of a file at once, in file order', () => {
    assert.throws(
      () => parseConfigText('scan:\n  targets: ["10.0.0.0/33"]\n  interval: 1hour\nstate: {path: ""}\n', 'c.yml'),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.deepEqual(err.problems, [
          'scan.targets[0]: "10.0.0.0/33" is not a valid CIDR',
          'scan.interval: "1hour" is not a valid duration (use Prometheus syntax such as 30s, 10m, 1h)',
          'state.path: must not be empty',
        ]);
        return true;
      },
    );
  });
});

describe('sweeps and boundaries', () => {
  it('accepts a range larger than max_targets with an inventory, as a boundary left out of the sweep targets', () => {
    for (const inventory of ['inventory_file: {path: inventory.yml}\n', 'openstack: {}\n']) {
      const config = parseConfigText(`scan:\n  targets: ["2001:db8::/64", "10.0.0.0/30"]\n${inventory}`, 'c.yml');
      assert.equal(config.scan.unsweptRanges.length, 1);
      assert.equal(config.scan.unsweptRanges[0]?.family, 6);
      assert.equal(config.scan.sweepTargets.count, 4);
      assert.equal(config.scan.targets.ranges.length, 2, 'the boundary keeps both');
    }
  });

  it('sweeps everything that fits max_targets, leaving nothing out', () => {
    const config = parseConfigText(
      'scan:\n  targets: ["10.0.0.0/24"]\ninventory_file: {path: inventory.yml}\n',
      'c.yml',
    );
    assert.deepEqual(config.scan.unsweptRanges, []);
    assert.equal(config.scan.sweepTargets, config.scan.targets);
  });

  it('sweeps daily by default, each sweep bounded by four cycle timeouts but at most half the sweep interval', () => {
    const defaults = defaultConfig().scan;
    assert.equal(defaults.sweepIntervalMs, 24 * 3_600_000);
    assert.equal(defaults.sweepTimeoutMs, 200 * 60_000, '4 × 50m');
    const short = parseConfigText('scan:\n  interval: 2h\n  timeout: 1h\n  sweep_interval: 6h\n', 'c.yml').scan;
    assert.equal(short.sweepTimeoutMs, 3 * 3_600_000, 'half of 6h, below 4 × 1h');
    const given = parseConfigText('scan:\n  sweep_timeout: 5h\n', 'c.yml').scan;
    assert.equal(given.sweepTimeoutMs, 5 * 3_600_000);
  });

  it('reads an inventory_file with its default refresh interval of one minute and size limit of 16 MiB', () => {
    const config = parseConfigText('inventory_file: {path: /etc/exposure-exporter/inventory.yml}\n', 'c.yml');
    assert.deepEqual(config.inventoryFile, {
      path: '/etc/exposure-exporter/inventory.yml',
      refreshIntervalMs: 60_000,
      maxBytes: 16_777_216,
    });
    assert.equal(defaultConfig().inventoryFile, undefined);
  });
});

describe('config defaults', () => {
  it('scans only 127.0.0.1 hourly on the default ports when no file is given', () => {
    const config = defaultConfig();
    assert.deepEqual(config.scan.targetSpecs, ['127.0.0.1']);
    assert.equal(config.scan.targets.count, 1);
    assert.deepEqual(config.scan.shard, { index: 0, count: 1 });
    assert.equal(config.scan.intervalMs, 3_600_000);
    assert.equal(config.scan.timeoutMs, 50 * 60_000);
    assert.equal(config.statePath, DEFAULTS.state.path);
    assert.deepEqual([...config.standardPorts], ['22/tcp', '80/tcp', '443/tcp']);
    assert.equal(config.openstack, undefined);
    // What `default` scans is the scan plan's to say (exporter-config.test.ts pins the 1,020 ports).
    assert.equal(config.scan.ports, 'default');
  });

  it('keeps the port keywords as keywords and an explicit list in its shortest form', () => {
    assert.equal(parseConfigText('scan: {ports: all}\n', 'c.yml').scan.ports, 'all');
    assert.equal(parseConfigText('scan: {ports: default}\n', 'c.yml').scan.ports, 'default');
    assert.equal(parseConfigText('scan: {ports: "6379,22,21-23"}\n', 'c.yml').scan.ports, '21-23,6379');
    assert.equal(parseConfigText('scan: {ports: 8080}\n', 'c.yml').scan.ports, '8080');
  });

  it('reads an exception date as valid through the end of that day in UTC', () => {
    const config = parseConfigText(
      'exceptions:\n  - {name: a, match: {ports: ["3306/tcp"]}, reason: r, expires: 2027-01-31}\n' +
        '  - {name: b, match: {tenant: t}, reason: r, expires: "2027-01-31T12:00:00+02:00"}\n',
      'c.yml',
    );
    assert.equal(config.exceptions[0]?.expiresAt.toISOString(), '2027-02-01T00:00:00.000Z');
    assert.equal(config.exceptions[1]?.expiresAt.toISOString(), '2027-01-31T10:00:00.000Z');
  });

  it('reads severity overrides as a map of port/protocol to level, nothing more', () => {
    const config = parseConfigText('severity_overrides: {"8080/tcp": medium, "6379/tcp": critical}\n', 'c.yml');
    assert.deepEqual(
      [...config.severityOverrides],
      [
        ['8080/tcp', 'medium'],
        ['6379/tcp', 'critical'],
      ],
    );
  });
});
