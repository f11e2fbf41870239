/**
 * Security groups, port security and owners' email against the real seeded OpenStack lab. The seed's cases
 * (test/openstack/seed.py, SECURITY_GROUPS): alpha-web on alpha-web-1 with a world-open rule for 6379, a
 * range 27017-27018 nobody listens on, an IPv6-only rule for 3306 and a 5432 rule for 203.0.113.0/24 only;
 * beta-open on beta-app-1 with every TCP port from anywhere; gamma-edge-1's port without port security;
 * carol without an email. Expectations come from seed.json, which the seed writes from the APIs. The scans
 * stay on the lab's loopback floating and provider ranges.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CloudCredentials } from '../../src/openstack/credentials/cloud-credentials.ts';
import { KeystoneSession } from '../../src/openstack/session/keystone.ts';
import { OpenStackInventory } from '../../src/openstack/inventory/openstack.ts';
import { findAdmittingRules } from '../../src/exposure/world-open-rules.ts';
import type { InventorySnapshot } from '../../src/inventory/inventory.ts';
import { runExporter, startExporter } from '../support/exporter-process.ts';
import { samplesNamed } from '../support/exposition.ts';
import { credentialsFor, readSeed, renderCloudsYaml, renderLabExporterConfig } from '../support/openstack-lab.ts';
import type { Seed } from '../support/openstack-lab.ts';
import { openTcpListener } from '../support/tcp-listener.ts';
import type { TcpListener } from '../support/tcp-listener.ts';

const PORTS = [2375, 3306, 5432, 6379, 8081];
const REFUSED_WARNING =
  'Neutron refused to list security groups (401); exposures show no admitting rules and latent exposures are not reported';

async function readInventory(credentials: CloudCredentials): Promise<InventorySnapshot> {
  const session = new KeystoneSession({ credentials, requestTimeoutMs: 30_000 });
  try {
    const inventory = new OpenStackInventory({
      client: { getJson: (service, path, options) => session.get(service, path, options) },
    });
    return await inventory.load({ signal: AbortSignal.timeout(120_000) });
  } finally {
    session.close();
  }
}

function providerAddress(seed: Seed): string {
  const address = seed.provider_addresses['gamma-edge-1']?.[0];
  if (!address?.startsWith('127.43.'))
    throw new Error(`gamma-edge-1 has no provider address in 127.43.0.0/24: ${address}`);
  return address;
}

/** The id of the seeded ingress rule of `group` for `port` (or without a range when port is null). */
function ruleId(seed: Seed, group: string, port: number | null): string {
  const found = seed.security_groups[group]?.rules.find(
    (rule) => rule.direction === 'ingress' && rule.port_range_min === port,
  );
  if (!found) throw new Error(`seed.json has no ingress rule of ${group} for ${port}`);
  return found.id;
}

function groupId(seed: Seed, group: string): string {
  const id = seed.security_groups[group]?.id;
  if (!id) throw new Error(`seed.json has no security group ${group}`);
  return id;
}

interface ReportPort {
  port: number;
  admitted_by: { security_group_id: string; security_group: string; rule_id: string; remote: string }[];
  port_security: boolean | null;
}
interface Report {
  hosts: { ip: string; vm: { name: string; user_email: string } | null; ports: ReportPort[] }[];
  latent: {
    ip: string;
    port: number | 'all';
    protocol: string;
    severity: string;
    security_group_id: string;
    security_group: string;
    rule_id: string;
    vm: { name: string; user: string; user_email: string };
  }[];
}

function portOf(report: Report, ip: string, port: number): ReportPort | undefined {
  return report.hosts.find((host) => host.ip === ip)?.ports.find((p) => p.port === port);
}

/** What the seed implies: the lab's latent exposures as `ip port/protocol severity group rule vm user email`. */
function expectedLatent(seed: Seed): string[] {
  const provider = providerAddress(seed);
  const alpha = `alpha-web-1 alice alice@example.test`;
  return [
    `127.42.0.11 6379/tcp high alpha-web ${ruleId(seed, 'alpha-web', 6379)} ${alpha}`,
    `127.42.0.11 27017/tcp high alpha-web ${ruleId(seed, 'alpha-web', 27017)} ${alpha}`,
    `127.42.0.11 27018/tcp high alpha-web ${ruleId(seed, 'alpha-web', 27017)} ${alpha}`,
    `127.42.0.21 all/tcp critical beta-open ${ruleId(seed, 'beta-open', null)} beta-app-1 bob bob@example.test`,
    `${provider} all/tcp critical - - gamma-edge-1 carol -`,
    `${provider} all/udp critical - - gamma-edge-1 carol -`,
  ];
}

function latentTable(report: Report): string[] {
  return report.latent.map(
    (l) =>
      `${l.ip} ${l.port}/${l.protocol} ${l.severity} ${l.security_group || '-'} ${l.rule_id || '-'} ${l.vm.name} ${l.vm.user} ${l.vm.user_email || '-'}`,
  );
}

describe('security groups in the OpenStack lab', () => {
  let seed: Seed;
  let dir: string;
  let admin: InventorySnapshot;

  before(async () => {
    seed = await readSeed();
    dir = await mkdtemp(join(tmpdir(), 'ee-cloud-sg-'));
    admin = await readInventory(await credentialsFor(seed, dir, 'lab-admin'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('the seed has what these tests rely on: groups on the ports, port security off on gamma-edge-1, carol without email', () => {
    assert.deepEqual(seed.ports['alpha-web-1']?.security_groups, ['alpha-default', 'alpha-web']);
    assert.deepEqual(seed.ports['beta-app-1']?.security_groups, ['beta-default', 'beta-open']);
    assert.deepEqual(
      [seed.ports['gamma-edge-1']?.port_security_enabled, seed.ports['gamma-edge-1']?.security_groups],
      [false, []],
    );
    assert.deepEqual(
      [seed.users['alice']?.email, seed.users['bob']?.email, seed.users['carol']?.email],
      ['alice@example.test', 'bob@example.test', null],
    );
  });

  it('admits 6379 and 27017 to alpha-web-1 through alpha-web, and nothing through the IPv6-only rule, the narrow prefix or the default group', () => {
    const security = admin.security.get('127.42.0.11');
    assert.deepEqual([security?.portSecurity, security?.public], [true, true]);
    const alphaWeb = { securityGroupId: groupId(seed, 'alpha-web'), securityGroup: 'alpha-web', remote: '0.0.0.0/0' };
    assert.deepEqual(findAdmittingRules('127.42.0.11', 6379, 'tcp', security), [
      { ...alphaWeb, ruleId: ruleId(seed, 'alpha-web', 6379) },
    ]);
    assert.deepEqual(findAdmittingRules('127.42.0.11', 27018, 'tcp', security), [
      { ...alphaWeb, ruleId: ruleId(seed, 'alpha-web', 27017) },
    ]);
    for (const port of [3306, 5432, 9200])
      assert.deepEqual(findAdmittingRules('127.42.0.11', port, 'tcp', security), [], `port ${port}`);
  });

  it('reads the rule without range or prefix of beta-open as every TCP port from anywhere', () => {
    assert.deepEqual(findAdmittingRules('127.42.0.21', 8081, 'tcp', admin.security.get('127.42.0.21')), [
      {
        securityGroupId: groupId(seed, 'beta-open'),
        securityGroup: 'beta-open',
        ruleId: ruleId(seed, 'beta-open', null),
        remote: '0.0.0.0/0',
      },
    ]);
  });

  it('sees port security off on gamma-edge-1 and off on the router gateways, and names owners with their email', () => {
    assert.deepEqual(admin.security.get(providerAddress(seed)), { portSecurity: false, public: true, rules: [] });
    for (const router of Object.values(seed.routers))
      assert.equal(admin.security.get(router.gateway_ips[0] ?? '')?.portSecurity, false);
    assert.equal(admin.owners.get('127.42.0.11')?.userEmail, 'alice@example.test');
    assert.equal(admin.owners.get('127.42.0.21')?.userEmail, 'bob@example.test');
    assert.equal(admin.owners.get(providerAddress(seed))?.userEmail, '');
  });

  it('the restricted application credential, with the two new access rules, reads the same security groups', async () => {
    const restricted = await readInventory(await credentialsFor(seed, dir, 'lab-appcred-restricted'));
    assert.deepEqual(restricted.warnings, []);
    assert.deepEqual(restricted.security, admin.security);
  });

  it('a credential without those access rules still reads the whole inventory, without security groups and with one warning', async () => {
    const older = await readInventory(await credentialsFor(seed, dir, 'lab-appcred-no-secgroups'));
    assert.deepEqual(older.owners, admin.owners);
    assert.equal(older.security.size, 0);
    assert.deepEqual(older.warnings, [REFUSED_WARNING]);
  });

  describe('the exporter', () => {
    const listeners: TcpListener[] = [];
    let planned: { ip: string; port: number }[];

    before(async () => {
      await writeFile(join(dir, 'clouds.yaml'), renderCloudsYaml(seed));
      planned = [
        { ip: '127.42.0.11', port: 6379 },
        { ip: '127.42.0.11', port: 3306 },
        { ip: '127.42.0.11', port: 5432 },
        { ip: '127.42.0.21', port: 8081 },
        { ip: providerAddress(seed), port: 2375 },
      ];
      for (const { ip, port } of planned) listeners.push(await openTcpListener(ip, port));
    });
    after(() => Promise.all(listeners.map((listener) => listener.close())));

    const config = (cloud: string, interval = '1h') =>
      renderLabExporterConfig({
        dir,
        ports: PORTS,
        interval,
        timeout: '50s',
        refreshInterval: '10m',
        requestTimeout: '20s',
        cloud,
      });

    it('--once reports the admitting rules, port security, latent exposures and user_email exactly', async () => {
      await writeFile(join(dir, 'config.yml'), config('lab-appcred-restricted'));
      const { code, stdout, stderr } = await runExporter([`--config.file=${join(dir, 'config.yml')}`, '--once'], {
        timeoutMs: 120_000,
      });
      assert.equal(code, 0, stderr);
      const report = JSON.parse(stdout) as Report;
      const alphaWeb = {
        security_group_id: groupId(seed, 'alpha-web'),
        security_group: 'alpha-web',
        remote: '0.0.0.0/0',
      };
      assert.deepEqual(portOf(report, '127.42.0.11', 6379), {
        ...portOf(report, '127.42.0.11', 6379),
        admitted_by: [{ ...alphaWeb, rule_id: ruleId(seed, 'alpha-web', 6379) }],
        port_security: true,
      });
      // Open, but no world-open rule admits them: still reported, with nothing in admitted_by.
      assert.deepEqual(
        [portOf(report, '127.42.0.11', 3306)?.admitted_by, portOf(report, '127.42.0.11', 3306)?.port_security],
        [[], true],
      );
      assert.deepEqual(
        [portOf(report, '127.42.0.11', 5432)?.admitted_by, portOf(report, '127.42.0.11', 5432)?.port_security],
        [[], true],
      );
      assert.deepEqual(portOf(report, '127.42.0.21', 8081)?.admitted_by, [
        {
          security_group_id: groupId(seed, 'beta-open'),
          security_group: 'beta-open',
          rule_id: ruleId(seed, 'beta-open', null),
          remote: '0.0.0.0/0',
        },
      ]);
      assert.deepEqual(
        [
          portOf(report, providerAddress(seed), 2375)?.admitted_by,
          portOf(report, providerAddress(seed), 2375)?.port_security,
        ],
        [[], false],
      );
      assert.deepEqual(latentTable(report), expectedLatent(seed));
      const emails = Object.fromEntries(report.hosts.filter((h) => h.vm).map((h) => [h.ip, h.vm?.user_email]));
      assert.deepEqual(
        [emails['127.42.0.11'], emails['127.42.0.21'], emails[providerAddress(seed)]],
        ['alice@example.test', 'bob@example.test', ''],
      );
    });

    it('--once with a credential without the security group rules reports the exposures without them, and warns once', async () => {
      await writeFile(join(dir, 'config.yml'), config('lab-appcred-no-secgroups'));
      const { code, stdout, stderr } = await runExporter([`--config.file=${join(dir, 'config.yml')}`, '--once'], {
        timeoutMs: 120_000,
      });
      assert.equal(code, 0, stderr);
      const report = JSON.parse(stdout) as Report;
      const ours = planned.map(({ ip, port }) => portOf(report, ip, port));
      assert.deepEqual(
        ours.map((p) => [p?.admitted_by, p?.port_security]),
        planned.map(() => [[], null]),
      );
      assert.deepEqual(report.latent, []);
      assert.equal(report.hosts.find((h) => h.ip === '127.42.0.11')?.vm?.user_email, 'alice@example.test');
      assert.equal(stderr.split('\n').filter((line) => line.includes(REFUSED_WARNING)).length, 1, stderr);
    });

    it('serves exposure_port_admitted_info, exposure_latent_port and user_email on /metrics', async () => {
      await writeFile(join(dir, 'config.yml'), config('lab-appcred-restricted'));
      const exporter = await startExporter([`--config.file=${join(dir, 'config.yml')}`]);
      try {
        const samples = await exporter.waitForMetrics(
          (s) => samplesNamed(s, 'exposure_latent_port').length > 0,
          'latent exposures',
          90_000,
        );
        const admitted = samplesNamed(samples, 'exposure_port_admitted_info')
          .filter((s) => planned.some((p) => p.ip === s.labels['ip'] && String(p.port) === s.labels['port']))
          .map(
            (s) =>
              `${s.labels['ip']} ${s.labels['port']}/${s.labels['protocol']} ${s.labels['security_group']} ${s.labels['rule_id']}`,
          )
          .sort();
        assert.deepEqual(admitted, [
          `127.42.0.11 6379/tcp alpha-web ${ruleId(seed, 'alpha-web', 6379)}`,
          `127.42.0.21 8081/tcp beta-open ${ruleId(seed, 'beta-open', null)}`,
        ]);
        const latent = samplesNamed(samples, 'exposure_latent_port').map(
          (s) =>
            `${s.labels['ip']} ${s.labels['port']}/${s.labels['protocol']} ${s.labels['severity']} ${s.labels['security_group'] || '-'} ${s.labels['vm_name']} ${s.labels['user']}`,
        );
        assert.deepEqual(
          latent.sort(),
          expectedLatent(seed)
            .map((line) =>
              line
                .split(' ')
                .filter((_, i) => i !== 4 && i !== 7)
                .join(' '),
            )
            .sort(),
        );
        const vmInfo = samplesNamed(samples, 'exposure_vm_info').find((s) => s.labels['ip'] === '127.42.0.11');
        assert.equal(vmInfo?.labels['user_email'], 'alice@example.test');
      } finally {
        await exporter.stop();
      }
    });
  });
});
