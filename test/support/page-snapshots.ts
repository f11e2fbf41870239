/**
 * A snapshot for the landing page tests: hostile names (a VM named `<script>alert(1)</script>`, a tenant with
 * `"` and `&`, an email with `<`), and every "rule to change" case: admitted by world-open rules, port
 * security off, no world-open rule, unknown; plus latent exposures. Built with buildSnapshot, then given
 * the security facts the inventory's security group reading supplies (buildSnapshot itself only knows ports).
 */
import type { ExporterConfig } from '../../src/state/exporter-config.ts';
import type { AddressOwner, InventorySnapshot } from '../../src/inventory/inventory.ts';
import { buildSnapshot } from '../../src/exposure/snapshot.ts';
import type { AdmittingRule, LatentExposure, Snapshot, SnapshotPort } from '../../src/exposure/snapshot.ts';
import { scanResult } from './snapshots.ts';
import { configWith } from './config.ts';

export const HOSTILE_VM = '<script>alert(1)</script>';
export const HOSTILE_TENANT = 'beta "&" sons';
export const HOSTILE_EMAIL = 'bob<b>@example.org';

export const PAGE_CONFIG_YAML = `
scan:
  targets: ["203.0.113.0/26"]
`;

export const ALPHA_WEB: AddressOwner = {
  vmId: '7d1c3a0e-0000-4000-8000-00000000a001',
  vmName: HOSTILE_VM,
  vmStatus: 'ACTIVE',
  ownerKind: 'compute',
  userId: 'a11ce0000000000000000000000000a1',
  user: 'alice',
  tenantId: 'a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1',
  tenant: 'alpha',
  userEmail: 'alice@example.org',
};

export const ALPHA_SEARCH: AddressOwner = {
  ...ALPHA_WEB,
  vmId: '7d1c3a0e-0000-4000-8000-00000000a002',
  vmName: 'search-1',
  userId: 'a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2',
  user: 'anna',
  userEmail: '',
};

export const BETA_DB: AddressOwner = {
  vmId: '7d1c3a0e-0000-4000-8000-00000000b001',
  vmName: 'db-1',
  vmStatus: 'ACTIVE',
  ownerKind: 'compute',
  userId: 'b0b0000000000000000000000000000b',
  user: 'bob',
  tenantId: 'b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1',
  tenant: HOSTILE_TENANT,
  userEmail: HOSTILE_EMAIL,
};

/** The tenant `zeta` sorts after alpha and beta, and has a user whose email is a script URL. */
export const ZETA_CI: AddressOwner = {
  vmId: '7d1c3a0e-0000-4000-8000-00000000c001',
  vmName: 'ci-1',
  vmStatus: 'ACTIVE',
  ownerKind: 'compute',
  userId: 'c0c0000000000000000000000000000c',
  user: 'carol',
  tenantId: 'c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1',
  tenant: 'zeta',
  userEmail: 'javascript:alert(1)',
};

export const WORLD_OPEN: AdmittingRule = {
  securityGroupId: '5e0c0000-0000-4000-8000-000000000001',
  securityGroup: 'redis-open',
  ruleId: '9a000000-0000-4000-8000-000000000001',
  remote: '0.0.0.0/0',
};

export const SECOND_WORLD_OPEN: AdmittingRule = {
  securityGroupId: '5e0c0000-0000-4000-8000-000000000002',
  securityGroup: 'default',
  ruleId: '9a000000-0000-4000-8000-000000000002',
  remote: '0.0.0.0/0',
};

/** Where each exposure is and what admits it: `ip port/protocol` → the port's security facts. */
const SECURITY: ReadonlyMap<string, Pick<SnapshotPort, 'admittedBy' | 'portSecurity'>> = new Map([
  ['203.0.113.7 6379/tcp', { admittedBy: [WORLD_OPEN, SECOND_WORLD_OPEN], portSecurity: true }],
  ['203.0.113.8 5432/tcp', { admittedBy: [], portSecurity: false }],
  ['203.0.113.9 9200/tcp', { admittedBy: [], portSecurity: true }],
  [
    '203.0.113.11 2375/tcp',
    {
      admittedBy: [{ ...WORLD_OPEN, securityGroup: '', ruleId: '9a000000-0000-4000-8000-0000000000c1' }],
      portSecurity: true,
    },
  ],
]);

export const LATENT: readonly LatentExposure[] = [
  {
    ip: '203.0.113.7',
    port: 27017,
    protocol: 'tcp',
    severity: 'high',
    securityGroupId: '5e0c0000-0000-4000-8000-000000000003',
    securityGroup: 'mongo-range',
    ruleId: '9a000000-0000-4000-8000-000000000003',
    owner: ALPHA_WEB,
  },
  {
    ip: '203.0.113.8',
    port: 'all',
    protocol: 'tcp',
    severity: 'critical',
    securityGroupId: '',
    securityGroup: '',
    ruleId: '',
    owner: BETA_DB,
  },
];

export function pageConfig(): ExporterConfig {
  return configWith(PAGE_CONFIG_YAML);
}

/**
 * One cycle: alpha has the hostile VM (6379, two admitting rules) and search-1 (9200, no world-open rule),
 * beta's db-1 has port security off, zeta's ci-1 a rule of an unnamed group, and 203.0.113.50 no owner at
 * all (9100, unknown). Standard ports (22, 443) are open too and must not be listed.
 */
export function buildPageSnapshot(config: ExporterConfig = pageConfig()): Snapshot {
  const inventory: InventorySnapshot = {
    source: 'openstack',
    up: true,
    syncedAt: new Date('2026-11-26T00:55:00Z'),
    servers: 4,
    owners: new Map([
      ['203.0.113.7', ALPHA_WEB],
      ['203.0.113.8', BETA_DB],
      ['203.0.113.9', ALPHA_SEARCH],
      ['203.0.113.11', ZETA_CI],
    ]),
    publicAddresses: ['203.0.113.7', '203.0.113.8', '203.0.113.9', '203.0.113.11'],
    // Set per port below, as the admission rules would have set them.
    security: new Map(),
    warnings: [],
  };
  const result = scanResult(
    [
      {
        ip: '203.0.113.7',
        openPorts: [
          { port: 22, protocol: 'tcp', service: 'ssh' },
          { port: 6379, protocol: 'tcp', service: 'redis' },
        ],
      },
      { ip: '203.0.113.8', openPorts: [{ port: 5432, protocol: 'tcp', service: 'postgresql' }] },
      {
        ip: '203.0.113.9',
        openPorts: [
          { port: 443, protocol: 'tcp', service: 'https' },
          { port: 9200, protocol: 'tcp', service: 'wap-wsp' },
        ],
      },
      { ip: '203.0.113.11', openPorts: [{ port: 2375, protocol: 'tcp', service: 'docker' }] },
      { ip: '203.0.113.50', openPorts: [{ port: 9100, protocol: 'tcp', service: 'jetdirect' }] },
    ],
    '2026-11-26T01:00:41.200Z',
  );
  const snapshot = buildSnapshot({ result, inventory, rules: config.rules, previous: undefined });
  const hosts = snapshot.hosts.map((host) => ({
    ...host,
    ports: host.ports.map((port) => ({ ...port, ...SECURITY.get(`${host.ip} ${port.port}/${port.protocol}`) })),
  }));
  return { ...snapshot, hosts, latent: LATENT };
}
