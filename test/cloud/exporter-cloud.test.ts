/**
 * End to end with the real seeded OpenStack lab and real nmap: listeners opened by this test on floating
 * and provider addresses of VMs owned by different users in different projects. The lab's floating and
 * provider ranges are loopback ranges, so the scan stays inside 127.0.0.0/8; tenant fixed addresses (10.x)
 * exist only in the lab's database and are outside scan.targets by construction.
 */
import assert from 'node:assert/strict';
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runExporter, startExporter } from '../support/exporter-process.ts';
import { openTcpListener } from '../support/tcp-listener.ts';
import type { TcpListener } from '../support/tcp-listener.ts';
import { samplesNamed, sampleValue } from '../support/exposition.ts';
import type { Sample } from '../support/exposition.ts';
import { LAB_STATE, readSeed, renderCloudsYaml, renderLabExporterConfig } from '../support/openstack-lab.ts';
import type { Seed } from '../support/openstack-lab.ts';

const PORTS = [2375, 6379, 8080, 9200];

/** The exposures this test opens, with the owner the lab says each has. */
function plannedExposures(
  seed: Seed,
): { ip: string; port: number; severity: string; vm: string; user: string; tenant: string }[] {
  const provider = seed.provider_addresses['gamma-edge-1']?.[0];
  if (!provider?.startsWith('127.43.'))
    throw new Error(`gamma-edge-1 has no provider address in 127.43.0.0/24: ${provider}`);
  return [
    { ip: '127.42.0.11', port: 6379, severity: 'high', vm: 'alpha-web-1', user: 'alice', tenant: 'alpha' },
    { ip: '127.42.0.21', port: 9200, severity: 'high', vm: 'beta-app-1', user: 'bob', tenant: 'beta' },
    { ip: provider, port: 2375, severity: 'critical', vm: 'gamma-edge-1', user: 'carol', tenant: 'gamma' },
    // Allocated to alpha but bound to no VM: a tenant, no VM, no user.
    { ip: '127.42.0.12', port: 8080, severity: 'low', vm: '', user: '', tenant: 'alpha' },
  ];
}

/**
 * Short inventory timings, so a frozen Keystone shows within seconds; the request timeout leaves room for
 * the lab's Keystone on a busy 2-core machine, where a token or a listing can take over 2 s.
 */
function labTiming(dir: string) {
  return { dir, ports: PORTS, refreshInterval: '3s', requestTimeout: '6s' };
}

/** Our exposures as `ip port severity vm user tenant` from /metrics, ignoring anything else listening on loopback. */
function exposureTable(samples: readonly Sample[], planned: ReturnType<typeof plannedExposures>): string[] {
  const ours = new Set(planned.map((p) => `${p.ip}:${p.port}`));
  return samplesNamed(samples, 'exposure_port_open')
    .filter((s) => ours.has(`${s.labels['ip']}:${s.labels['port']}`))
    .map((s) =>
      [
        s.labels['ip'],
        s.labels['port'],
        s.labels['severity'],
        s.labels['vm_name'] || '-',
        s.labels['user'] || '-',
        s.labels['tenant'] || '-',
      ].join(' '),
    )
    .sort();
}

function expectedTable(planned: ReturnType<typeof plannedExposures>): string[] {
  return planned.map((p) => [p.ip, p.port, p.severity, p.vm || '-', p.user || '-', p.tenant].join(' ')).sort();
}

async function keystoneGroup(): Promise<number> {
  const [pid] = (await readFile(join(LAB_STATE, 'run', 'keystone.pid'), 'utf8')).trim().split(/\s+/);
  return Number(pid);
}

describe('exporter with the OpenStack lab', () => {
  let seed: Seed;
  let dir: string;
  let planned: ReturnType<typeof plannedExposures>;
  const listeners: TcpListener[] = [];

  before(async () => {
    seed = await readSeed();
    planned = plannedExposures(seed);
    dir = await mkdtemp(join(tmpdir(), 'ee-cloud-e2e-'));
    await writeFile(join(dir, 'clouds.yaml'), renderCloudsYaml(seed));
    for (const exposure of planned) listeners.push(await openTcpListener(exposure.ip, exposure.port));
  });
  after(async () => {
    await Promise.all(listeners.map((listener) => listener.close()));
    await rm(dir, { recursive: true, force: true });
  });

  it('--once names each exposure by VM, user and tenant', async () => {
    await writeFile(
      join(dir, 'config.yml'),
      renderLabExporterConfig({ ...labTiming(dir), interval: '1h', timeout: '50m' }),
    );
    const { code, stdout, stderr } = await runExporter([`--config.file=${join(dir, 'config.yml')}`, '--once'], {
      timeoutMs: 120_000,
    });
    assert.equal(code, 0, stderr);
    const report = JSON.parse(stdout) as {
      scan: { targets: number };
      inventory: { source: string; up: boolean; servers: number };
      hosts: {
        ip: string;
        vm: { name: string; user: string; tenant: string; owner_kind: string } | null;
        ports: { port: number; severity: string | null }[];
      }[];
    };
    assert.deepEqual([report.inventory.source, report.inventory.up, report.inventory.servers], ['openstack', true, 4]);
    // The inventory knows the tenants' 10.x fixed addresses; the scan never went beyond its 127.x targets.
    assert.equal(report.scan.targets, 512);
    assert.deepEqual(
      report.hosts.map((h) => h.ip).filter((ip) => !ip.startsWith('127.')),
      [],
    );
    for (const exposure of planned) {
      const host = report.hosts.find((h) => h.ip === exposure.ip);
      assert.ok(host, `${exposure.ip} is in the report`);
      assert.equal(host.ports.find((p) => p.port === exposure.port)?.severity, exposure.severity);
      assert.deepEqual(
        [host.vm?.name, host.vm?.user, host.vm?.tenant, host.vm?.owner_kind],
        [exposure.vm, exposure.user, exposure.tenant, exposure.vm ? 'compute' : 'floating_ip'],
      );
    }
    assert.doesNotMatch(stderr, new RegExp(seed.admin.password === 'admin' ? 'password=admin' : seed.admin.password));
  });

  it('serves the names on /metrics, and keeps them with exposure_openstack_up 0 while Keystone does not answer', async () => {
    await writeFile(
      join(dir, 'config.yml'),
      renderLabExporterConfig({ ...labTiming(dir), interval: '10s', timeout: '8s' }),
    );
    const exporter = await startExporter([`--config.file=${join(dir, 'config.yml')}`]);
    const keystone = await keystoneGroup();
    try {
      const first = await exporter.waitForMetrics(
        (samples) =>
          exposureTable(samples, planned).length === planned.length &&
          samples.some((s) => s.name === 'exposure_openstack_up'),
        'the first cycle with the inventory',
        90_000,
      );
      assert.deepEqual(exposureTable(first, planned), expectedTable(planned));
      assert.equal(sampleValue(first, 'exposure_openstack_up'), 1);
      assert.equal(sampleValue(first, 'exposure_inventory_addresses_outside_targets'), 0);
      assert.equal(
        sampleValue(first, 'exposure_vm_info', {
          ip: '127.42.0.11',
          vm_name: 'alpha-web-1',
          owner_kind: 'compute',
          tenant: 'alpha',
        }),
        1,
      );
      assert.ok(sampleValue(first, 'exposure_openstack_request_duration_seconds_count', { service: 'compute' }) >= 1);

      // Keystone frozen: its sockets accept but nothing answers, so every read times out.
      process.kill(-keystone, 'SIGSTOP');
      const down = await exporter.waitForMetrics(
        (samples) => sampleValue(samples, 'exposure_openstack_up') === 0,
        'exposure_openstack_up 0',
        60_000,
      );
      const successes = sampleValue(down, 'exposure_scans_total', { result: 'success' });
      const later = await exporter.waitForMetrics(
        (samples) => sampleValue(samples, 'exposure_scans_total', { result: 'success' }) > successes,
        'a cycle completed while Keystone is down',
        60_000,
      );
      assert.equal(sampleValue(later, 'exposure_scan_success'), 1);
      assert.equal(sampleValue(later, 'exposure_openstack_up'), 0);
      assert.deepEqual(
        exposureTable(later, planned),
        expectedTable(planned),
        'the last good inventory still names them',
      );
    } finally {
      process.kill(-keystone, 'SIGCONT');
      assert.equal(await exporter.stop('SIGTERM', 10_000), 0);
    }
  });
});
