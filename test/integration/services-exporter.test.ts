/**
 * The exporter's UDP and verification passes against real daemons: redis-server on 7777, memcached with UDP
 * on, dnsmasq answering DNS and snmpd with community `public`, each bound to one host of a routed namespace
 * lab (test/lab/routed-lab.ts), one host with no service and three silent addresses in the targets. Real
 * nmap runs in the lab's scan namespace. Requires root (namespaces, raw sockets).
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startRoutedLab, type RoutedLab } from '../lab/routed-lab.ts';
import {
  SERVICE_LAB,
  SERVICE_LAB_EMPTY_ADDRESS,
  startServiceDaemons,
  type ServiceDaemons,
} from '../lab/service-daemons.ts';
import { runExporter, startExporter } from '../support/exporter-process.ts';
import { lintExposition, samplesNamed, sampleValue } from '../support/exposition.ts';

const PLACEMENTS = SERVICE_LAB;
const EMPTY_ADDRESS = SERVICE_LAB_EMPTY_ADDRESS;

interface ReportPort {
  port: number;
  protocol: string;
  service: string;
  severity: string | null;
  class: string;
  product?: string;
  version?: string;
  unauthenticated?: boolean;
}
interface PassReport {
  success: boolean;
  error: unknown;
  nmap_args: string[][];
  addresses_scanned?: number;
  ports_verified?: number;
}
interface Report {
  scan: { success: boolean; udp?: PassReport; verify?: PassReport };
  hosts: { ip: string; ports: ReportPort[] }[];
}

/** Each open port as `ip port/protocol service severity [no-auth]`, in report order. */
function portTable(report: Report): string[] {
  return report.hosts.flatMap((host) =>
    host.ports.map(
      (port) =>
        `${host.ip} ${port.port}/${port.protocol} ${port.service} ${port.severity ?? port.class}${port.unauthenticated ? ' no-auth' : ''}`,
    ),
  );
}

describe('UDP and verification passes against real daemons', () => {
  let lab: RoutedLab;
  let daemons: ServiceDaemons;

  before(async () => {
    lab = await startRoutedLab({
      addresses: [...PLACEMENTS.map((placement) => placement.address), EMPTY_ADDRESS],
      icmpRateLimit: false,
    });
    daemons = await startServiceDaemons({
      namespace: (address) => lab.hostNamespace(address),
      probeNamespace: lab.scanName,
      dir: lab.dir,
      daemons: PLACEMENTS,
    });
  });
  after(async () => {
    await daemons?.stop();
    await lab?.stop();
  });

  async function writeConfig(name: string, extra: string): Promise<string> {
    const path = join(lab.dir, name);
    await writeFile(
      path,
      `scan:\n  targets: ["198.51.100.8/29"]\n  ports: "22,53,6379,7777,11211"\n  interval: 1h\n  timeout: 5m\n` +
        `  nmap:\n    path: ${JSON.stringify(lab.nmapPath)}\n    max_rtt_timeout: 200ms\n    max_retries: 1\n${extra}` +
        `state:\n  path: ${JSON.stringify(join(lab.dir, `${name}.state.json`))}\n`,
    );
    return path;
  }

  it('reports the UDP services that answered, none where nothing listens, and rates by what answers', async () => {
    const config = await writeConfig(
      'verify.yml',
      '  verify:\n    enabled: true\n    scripts: [redis-info, memcached-info]\n',
    );
    const { code, stdout, stderr } = await runExporter([`--config.file=${config}`, '--once'], { timeoutMs: 240_000 });
    assert.equal(code, 0, stderr);
    const report = JSON.parse(stdout) as Report;
    assert.deepEqual(portTable(report), [
      '198.51.100.11 7777/tcp redis high no-auth',
      '198.51.100.12 11211/tcp memcached high no-auth',
      // memcached answers its stats over UDP too, without credentials.
      '198.51.100.12 11211/udp memcache high no-auth',
      '198.51.100.13 53/tcp domain medium',
      '198.51.100.13 53/udp domain medium',
      '198.51.100.14 161/udp snmp high',
    ]);
    const redis = report.hosts[0]!.ports[0]!;
    assert.deepEqual([redis.product, redis.version], ['Redis key-value store', '7.0.15']);
    assert.equal(
      report.hosts.some((host) => host.ip === EMPTY_ADDRESS),
      false,
    );
    assert.equal(report.scan.udp?.success, true);
    assert.equal(report.scan.udp?.addresses_scanned, 8);
    assert.ok(report.scan.udp?.nmap_args[0]?.includes('-sU'));
    assert.equal(report.scan.verify?.success, true);
    assert.equal(report.scan.verify?.ports_verified, 6);
    // One nmap -sV run per protocol and port set, each on its own pairs only.
    const verifyRuns = report.scan.verify!.nmap_args.map(
      (args) => `${args.includes('-sU') ? 'udp' : 'tcp'} ${args[args.indexOf('-p') + 1]}`,
    );
    assert.deepEqual(verifyRuns.sort(), ['tcp 11211', 'tcp 53', 'tcp 7777', 'udp 11211', 'udp 161', 'udp 53']);
  });

  it('rates redis on 7777 low by its number when verification is off', async () => {
    const config = await writeConfig('plain.yml', '');
    const { code, stdout, stderr } = await runExporter([`--config.file=${config}`, '--once'], { timeoutMs: 240_000 });
    assert.equal(code, 0, stderr);
    const report = JSON.parse(stdout) as Report;
    const redis = report.hosts.find((host) => host.ip === '198.51.100.11')?.ports.find((port) => port.port === 7777);
    assert.deepEqual(redis && [redis.severity, redis.product, redis.unauthenticated], ['low', undefined, undefined]);
    assert.equal(report.scan.verify, undefined);
  });

  it('serves UDP exposures, unauthenticated stores and the passes on /metrics, which promtool accepts', async () => {
    const config = await writeConfig(
      'serve.yml',
      '  verify:\n    enabled: true\n    scripts: [redis-info, memcached-info]\n',
    );
    const exporter = await startExporter([`--config.file=${config}`]);
    try {
      const samples = await exporter.waitForMetrics(
        (s) => samplesNamed(s, 'exposure_scan_pass_success').length === 2,
        'a cycle with both passes',
        240_000,
      );
      assert.equal(sampleValue(samples, 'exposure_scan_pass_success', { pass: 'udp' }), 1);
      assert.equal(sampleValue(samples, 'exposure_scan_pass_success', { pass: 'verify' }), 1);
      assert.equal(
        sampleValue(samples, 'exposure_port_open', {
          ip: '198.51.100.14',
          port: '161',
          protocol: 'udp',
          service: 'snmp',
          severity: 'high',
        }),
        1,
      );
      const unauthenticated = samplesNamed(samples, 'exposure_port_unauthenticated').map(
        (s) => `${s.labels['ip']} ${s.labels['port']}/${s.labels['protocol']} ${s.labels['service']}`,
      );
      assert.deepEqual(unauthenticated.sort(), [
        '198.51.100.11 7777/tcp redis',
        '198.51.100.12 11211/tcp memcached',
        '198.51.100.12 11211/udp memcache',
      ]);
      const udpPorts = samplesNamed(samples, 'exposure_port_open')
        .filter((s) => s.labels['protocol'] === 'udp')
        .map((s) => `${s.labels['ip']} ${s.labels['port']}`);
      assert.deepEqual(udpPorts.sort(), ['198.51.100.12 11211', '198.51.100.13 53', '198.51.100.14 161']);
      const { code, output } = await lintExposition(await (await fetch(`${exporter.baseUrl}/metrics`)).text());
      assert.equal(output, '');
      assert.equal(code, 0);
    } finally {
      await exporter.stop();
    }
  });
});
