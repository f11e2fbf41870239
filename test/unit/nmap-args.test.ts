import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultConfig } from '../../src/config/schema.ts';
import type { Config } from '../../src/config/schema.ts';
import { buildExporterConfig } from '../../src/state/exporter-config.ts';
import { buildScanJob } from '../../src/cycle/cycle.ts';
import { ConfigError } from '../../src/errors.ts';
import { buildNmapArgs, resolveScanType } from '../../src/scan/nmap-args.ts';
import type { NmapInvocation, Privilege } from '../../src/scan/nmap-args.ts';
import type { IpFamily } from '../../src/net/addresses.ts';
import { settingsWith } from '../support/config.ts';

/** What the scanner passes for a job from this config; `privilege` is what was detected at start. */
function invocationFrom(
  config: Config,
  options: { family?: IpFamily; privilege?: Privilege; statsEveryMs?: number } = {},
): NmapInvocation {
  const privilege = options.privilege ?? 'none';
  const job = buildScanJob(buildExporterConfig(config));
  return {
    family: options.family ?? 4,
    ports: job.ports,
    scanType: resolveScanType(job.scanType, privilege),
    privilege,
    hostDiscovery: job.hostDiscovery,
    tuning: job.tuning,
    statsEveryMs: options.statsEveryMs ?? 5000,
  };
}

const SMALL = `
scan:
  targets: ["203.0.113.0/24"]
  ports: "22,6379,27017"
`;

/** The tail every command line ends with: the defaults' tuning, progress, XML on stdout, targets on stdin. */
function tail(tuning = { maxRtt: '500ms', retries: '2', hostTimeout: '600000ms' }): string[] {
  return [
    '-T4',
    '--max-rtt-timeout',
    tuning.maxRtt,
    '--max-retries',
    tuning.retries,
    '--host-timeout',
    tuning.hostTimeout,
    '--min-rate',
    '5000',
    '--stats-every',
    '5000ms',
    '-oX',
    '-',
    '-iL',
    '-',
  ];
}

describe('buildNmapArgs', () => {
  it('builds a connect scan for an unprivileged process', () => {
    assert.deepEqual(buildNmapArgs(invocationFrom(settingsWith(SMALL), { privilege: 'none' })), [
      '-sT',
      '-Pn',
      '-n',
      '-p',
      '22,6379,27017',
      ...tail(),
    ]);
  });

  it('builds a SYN scan as root without --privileged', () => {
    assert.deepEqual(buildNmapArgs(invocationFrom(settingsWith(SMALL), { privilege: 'root' })), [
      '-sS',
      '-Pn',
      '-n',
      '-p',
      '22,6379,27017',
      ...tail(),
    ]);
  });

  it('adds --privileged to a SYN scan that relies on CAP_NET_RAW', () => {
    assert.deepEqual(buildNmapArgs(invocationFrom(settingsWith(SMALL), { privilege: 'net_raw' })), [
      '-sS',
      '--privileged',
      '-Pn',
      '-n',
      '-p',
      '22,6379,27017',
      ...tail(),
    ]);
  });

  it('adds --privileged to an explicit SYN scan without root, for nmap binaries given CAP_NET_RAW by setcap', () => {
    const config = settingsWith(`${SMALL}  nmap: {scan_type: syn}\n`);
    assert.deepEqual(buildNmapArgs(invocationFrom(config, { privilege: 'none' })), [
      '-sS',
      '--privileged',
      '-Pn',
      '-n',
      '-p',
      '22,6379,27017',
      ...tail(),
    ]);
  });

  it('never adds --privileged to a connect scan, even with CAP_NET_RAW', () => {
    const config = settingsWith(`${SMALL}  nmap: {scan_type: connect}\n`);
    assert.deepEqual(buildNmapArgs(invocationFrom(config, { privilege: 'net_raw' })), [
      '-sT',
      '-Pn',
      '-n',
      '-p',
      '22,6379,27017',
      ...tail(),
    ]);
  });

  it('starts an IPv6 scan with -6', () => {
    assert.deepEqual(buildNmapArgs(invocationFrom(settingsWith(SMALL), { family: 6, privilege: 'none' })), [
      '-6',
      '-sT',
      '-Pn',
      '-n',
      '-p',
      '22,6379,27017',
      ...tail(),
    ]);
  });

  it('sweeps without host discovery and without --open by default, and with both when host_discovery is on', () => {
    assert.deepEqual(buildNmapArgs(invocationFrom(settingsWith(SMALL), { privilege: 'root' })).slice(0, 4), [
      '-sS',
      '-Pn',
      '-n',
      '-p',
    ]);
    const withDiscovery = settingsWith(`${SMALL}  nmap: {host_discovery: true}\n`);
    assert.deepEqual(buildNmapArgs(invocationFrom(withDiscovery, { privilege: 'root' })), [
      '-sS',
      '-n',
      '--open',
      '-p',
      '22,6379,27017',
      ...tail(),
    ]);
  });

  it('never host-discovers known addresses, whatever host_discovery says', () => {
    const withDiscovery = buildExporterConfig(settingsWith(`${SMALL}  nmap: {host_discovery: true}\n`));
    assert.equal(buildScanJob(withDiscovery, withDiscovery.plan.targets, 'sweep').hostDiscovery, true);
    assert.equal(buildScanJob(withDiscovery, withDiscovery.plan.targets, 'known').hostDiscovery, false);
  });

  it('passes min_rate and max_rate when above 0, and leaves both to nmap at 0', () => {
    const bounded = settingsWith(`${SMALL}  nmap: {min_rate: 300, max_rate: 800}\n`);
    assert.deepEqual(buildNmapArgs(invocationFrom(bounded)), [
      '-sT',
      '-Pn',
      '-n',
      '-p',
      '22,6379,27017',
      '-T4',
      '--max-rtt-timeout',
      '500ms',
      '--max-retries',
      '2',
      '--host-timeout',
      '600000ms',
      '--min-rate',
      '300',
      '--max-rate',
      '800',
      '--stats-every',
      '5000ms',
      '-oX',
      '-',
      '-iL',
      '-',
    ]);
    const args = buildNmapArgs(invocationFrom(settingsWith(`${SMALL}  nmap: {min_rate: 0}\n`)));
    assert.equal(args.includes('--min-rate'), false);
    assert.equal(args.includes('--max-rate'), false);
  });

  it('lowers the default min_rate to a max_rate below it', () => {
    const capped = buildExporterConfig(settingsWith(`${SMALL}  nmap: {max_rate: 1000}\n`));
    assert.deepEqual([capped.settings.scan.tuning.minRate, capped.settings.scan.tuning.maxRate], [1000, 1000]);
  });

  it('renders every duration in milliseconds', () => {
    const config = settingsWith(
      `${SMALL}  nmap: {max_rtt_timeout: 1s, host_timeout: 1h30m, timing_template: 3, max_retries: 0, min_rate: 0}\n`,
    );
    assert.deepEqual(buildNmapArgs(invocationFrom(config, { statsEveryMs: 2500 })), [
      '-sT',
      '-Pn',
      '-n',
      '-p',
      '22,6379,27017',
      '-T3',
      '--max-rtt-timeout',
      '1000ms',
      '--max-retries',
      '0',
      '--host-timeout',
      '5400000ms',
      '--stats-every',
      '2500ms',
      '-oX',
      '-',
      '-iL',
      '-',
    ]);
  });

  it('passes the expanded default port list as one argument', () => {
    const args = buildNmapArgs(invocationFrom(defaultConfig()));
    const ports = args[args.indexOf('-p') + 1] ?? '';
    assert.equal(ports, buildExporterConfig(defaultConfig()).plan.ports);
    assert.match(ports, /^[0-9,-]+$/);
    assert.ok(ports.split(',').includes('6379'));
  });

  it('never puts a target on the command line: they go to nmap on stdin', () => {
    const config = settingsWith(`
scan:
  targets: ["203.0.113.0/24", "198.51.100.10-198.51.100.20", "2001:db8::5"]
  exclude: ["203.0.113.1"]
`);
    for (const family of [4, 6] as const) {
      const args = buildNmapArgs(invocationFrom(config, { family }));
      assert.deepEqual(args.slice(-2), ['-iL', '-']);
      for (const arg of args) {
        assert.doesNotMatch(arg, /203\.0\.113|198\.51\.100|2001:db8/, `target text in argument ${JSON.stringify(arg)}`);
      }
    }
  });
});

describe('arguments built from a validated config', () => {
  const FLAGS = new Set([
    '-6',
    '-sS',
    '-sT',
    '--privileged',
    '-Pn',
    '-n',
    '--open',
    '-p',
    '-T0',
    '-T1',
    '-T2',
    '-T3',
    '-T4',
    '-T5',
    '--max-rtt-timeout',
    '--max-retries',
    '--host-timeout',
    '--min-rate',
    '--stats-every',
    '-oX',
    '-iL',
  ]);
  /** Flags whose next argument is nmap's "-" for stdin or stdout. */
  const DASH_VALUE = new Set(['-oX', '-iL']);

  const configs = [
    '',
    SMALL,
    'scan: {ports: all}\n',
    'scan: {ports: "1-1024,3306,6379,8000-8100"}\n',
    'scan: {ports: 8080}\n',
    'scan: {nmap: {scan_type: syn, host_discovery: false, timing_template: 0, min_rate: 1000000}}\n',
    'scan: {nmap: {scan_type: connect, timing_template: 5, max_rtt_timeout: 5ms, max_retries: 50, host_timeout: 0s}}\n',
    'scan: {nmap: {max_rtt_timeout: 2s, host_timeout: 1d2h3m4s5ms}}\n',
  ];

  it('never start with "-" unless they are an allow-listed flag', () => {
    let checked = 0;
    for (const yaml of configs) {
      const config = settingsWith(yaml);
      for (const family of [4, 6] as const) {
        for (const privilege of ['root', 'net_raw', 'none'] as const) {
          const args = buildNmapArgs(invocationFrom(config, { family, privilege }));
          args.forEach((arg, index) => {
            if (!arg.startsWith('-')) return;
            const isStdio = arg === '-' && DASH_VALUE.has(args[index - 1] ?? '');
            assert.ok(FLAGS.has(arg) || isStdio, `${JSON.stringify(arg)} at ${index} of ${JSON.stringify(args)}`);
          });
          checked += 1;
        }
      }
    }
    assert.equal(checked, configs.length * 6);
  });

  const hostile: [yaml: string, problem: string][] = [
    ['scan: {ports: "-sV"}\n', 'scan.ports: "-sV" must not start with "-" (or use default or all)'],
    ['scan: {ports: "-"}\n', 'scan.ports: "-" must not start with "-" (or use default or all)'],
    [
      'scan: {ports: "22,-oN"}\n',
      'scan.ports: "22,-oN" is not a valid port list: "-oN" is not a port or a range (or use default or all)',
    ],
    [
      'scan: {ports: "22 --script=x"}\n',
      'scan.ports: "22 --script=x" is not a valid port list: "22 --script=x" is not a port or a range (or use default or all)',
    ],
    [
      'scan: {ports: "T:22"}\n',
      'scan.ports: "T:22" is not a valid port list: "T:22" is not a port or a range (or use default or all)',
    ],
  ];
  for (const [yaml, problem] of hostile) {
    it(`refuses ${yaml.trim()} before any argument is built`, () => {
      assert.throws(
        () => settingsWith(yaml),
        (err: unknown) => {
          assert.ok(err instanceof ConfigError);
          assert.deepEqual(err.problems, [problem]);
          return true;
        },
      );
    });
  }
});

describe('resolveScanType', () => {
  const cases: [setting: 'auto' | 'syn' | 'connect', privilege: Privilege, expected: 'syn' | 'connect'][] = [
    ['auto', 'root', 'syn'],
    ['auto', 'net_raw', 'syn'],
    ['auto', 'none', 'connect'],
    ['syn', 'none', 'syn'],
    ['syn', 'root', 'syn'],
    ['connect', 'root', 'connect'],
    ['connect', 'net_raw', 'connect'],
  ];
  for (const [setting, privilege, expected] of cases) {
    it(`${setting} with privilege ${privilege} is a ${expected} scan`, () => {
      assert.equal(resolveScanType(setting, privilege), expected);
    });
  }
});

describe('buildNmapArgs for the UDP and verification passes', () => {
  const base = (overrides: Partial<NmapInvocation>): NmapInvocation => ({
    ...invocationFrom(settingsWith(SMALL), { privilege: 'root' }),
    ...overrides,
  });

  it('builds a UDP scan with --defeat-icmp-ratelimit and the pass own retries', () => {
    const invocation = base({ scanType: 'udp', ports: '53,161', defeatIcmpRateLimit: true });
    assert.deepEqual(buildNmapArgs({ ...invocation, tuning: { ...invocation.tuning, maxRetries: 1 } }), [
      '-sU',
      '--defeat-icmp-ratelimit',
      '-Pn',
      '-n',
      '-p',
      '53,161',
      ...tail({ maxRtt: '500ms', retries: '1', hostTimeout: '600000ms' }),
    ]);
  });

  it('adds --privileged to a UDP scan that relies on CAP_NET_RAW, and leaves the rate limit to nmap when told', () => {
    assert.deepEqual(
      buildNmapArgs(base({ scanType: 'udp', privilege: 'net_raw', ports: '161', defeatIcmpRateLimit: false })).slice(
        0,
        6,
      ),
      ['-sU', '--privileged', '-Pn', '-n', '-p', '161'],
    );
  });

  it('adds -sV with its intensity and the safe scripts for verification, with -Pn', () => {
    const invocation = base({
      ports: '7777',
      hostDiscovery: false,
      versionDetection: { intensity: 2, scripts: ['redis-info', 'memcached-info'] },
    });
    assert.deepEqual(buildNmapArgs(invocation).slice(0, 10), [
      '-sS',
      '-sV',
      '--version-intensity',
      '2',
      '--script',
      'redis-info,memcached-info',
      '-Pn',
      '-n',
      '-p',
      '7777',
    ]);
  });

  it('runs no script when verification names none', () => {
    const args = buildNmapArgs(base({ ports: '7777', versionDetection: { intensity: 0, scripts: [] } }));
    assert.deepEqual(args.slice(0, 4), ['-sS', '-sV', '--version-intensity', '0']);
    assert.equal(args.includes('--script'), false);
  });

  it('never adds --defeat-icmp-ratelimit to a TCP scan', () => {
    assert.equal(buildNmapArgs(base({ defeatIcmpRateLimit: true })).includes('--defeat-icmp-ratelimit'), false);
  });
});
