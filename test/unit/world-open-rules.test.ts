/**
 * The security group matcher: on the lab's recorded Neutron listings (security groups, ports, floating IPs
 * and networks recorded together; see test/fixtures/openstack/README.md) read by the real inventory, and on
 * hand-made rule tables for each rule of what counts as world-open.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { OpenStackInventory } from '../../src/openstack/inventory/openstack.ts';
import type { OpenStackClient } from '../../src/openstack/inventory/openstack.ts';
import { findAdmittingRules, findLatentExposures } from '../../src/exposure/world-open-rules.ts';
import type { AddressOwner, AddressSecurity, IngressRule, InventorySnapshot } from '../../src/inventory/inventory.ts';
import type { LatentExposure } from '../../src/exposure/snapshot.ts';
import { rulesWith } from '../support/config.ts';
import { INFRA_CI, SHOP_DB } from '../support/owners.ts';

const NOW = new Date('2026-11-26T02:00:00Z');
const DEFAULT_RULES = rulesWith('{}');

function fixture(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`../fixtures/openstack/${name}`, import.meta.url), 'utf8'));
}

/**
 * The listings of the lab with security groups. Nova's servers are not part of that recording, so each VM is
 * known by its port's device id only (owner kind compute, no name), which is all the matcher looks at.
 */
const SECURITY_GROUP_LAB: OpenStackClient = {
  async getJson(_service, path) {
    const files: Record<string, string> = {
      'servers/detail': 'empty',
      'v2.0/floatingips': 'neutron_floatingips_secgroups.json',
      'v2.0/ports': 'neutron_ports_secgroups.json',
      'v2.0/networks': 'neutron_networks_secgroups.json',
      'v2.0/routers': 'empty',
      'v2.0/security-groups': 'neutron_security_groups.json',
      projects: 'keystone_projects.json',
      users: 'keystone_users.json',
    };
    const resource = path.split('?')[0] ?? '';
    const file = files[resource];
    if (file === undefined) throw new Error(`no recording for ${path}`);
    if (file === 'empty') return { [resource.endsWith('routers') ? 'routers' : 'servers']: [] };
    return fixture(file);
  },
};

const ALPHA_WEB = { securityGroupId: 'eeaa66ef-2885-4876-ba31-598b5f475b9d', securityGroup: 'alpha-web' };
const BETA_OPEN = { securityGroupId: 'd8aa2eb6-15b5-4dae-9b90-0c9c206ef089', securityGroup: 'beta-open' };
const RULE_6379 = 'c4a8a38f-d1bd-4849-914d-bb5d99f3377f';
const RULE_27017_27018 = 'cd3d0c43-5ea4-4021-bb8e-e81779e88d3f';
const RULE_BETA_ALL_TCP = '717e38d4-e0c7-4459-8223-8f9039e21007';

async function loadLab(): Promise<InventorySnapshot> {
  return new OpenStackInventory({ client: SECURITY_GROUP_LAB }).load({ signal: AbortSignal.timeout(5000) });
}

function latentTable(latent: readonly LatentExposure[]): string[] {
  return latent.map(
    (l) => `${l.ip} ${l.port}/${l.protocol} ${l.severity} ${l.securityGroup || '-'} ${l.ruleId || '-'}`,
  );
}

describe('findAdmittingRules on the recorded lab', () => {
  it('names the world-open rule of alpha-web that admits 6379 to the floating IP of its port', async () => {
    const lab = await loadLab();
    assert.deepEqual(findAdmittingRules('127.42.0.11', 6379, 'tcp', lab.security.get('127.42.0.11')), [
      { ...ALPHA_WEB, ruleId: RULE_6379, remote: '0.0.0.0/0' },
    ]);
  });

  it('admits 27017 through the range rule 27017-27018', async () => {
    const lab = await loadLab();
    assert.deepEqual(findAdmittingRules('127.42.0.11', 27017, 'tcp', lab.security.get('127.42.0.11')), [
      { ...ALPHA_WEB, ruleId: RULE_27017_27018, remote: '0.0.0.0/0' },
    ]);
  });

  it('admits nothing through the IPv6-only rule, the narrow prefix or the default group of remote members', async () => {
    const lab = await loadLab();
    const security = lab.security.get('127.42.0.11');
    assert.equal(security?.portSecurity, true);
    assert.deepEqual(findAdmittingRules('127.42.0.11', 3306, 'tcp', security), []);
    assert.deepEqual(findAdmittingRules('127.42.0.11', 5432, 'tcp', security), []);
    assert.deepEqual(findAdmittingRules('127.42.0.11', 9200, 'tcp', security), []);
  });

  it('reads a rule without prefix or range as admitting every TCP port from anywhere, and no UDP port', async () => {
    const lab = await loadLab();
    const security = lab.security.get('127.42.0.21');
    assert.deepEqual(findAdmittingRules('127.42.0.21', 8081, 'tcp', security), [
      { ...BETA_OPEN, ruleId: RULE_BETA_ALL_TCP, remote: '0.0.0.0/0' },
    ]);
    assert.deepEqual(findAdmittingRules('127.42.0.21', 8081, 'udp', security), []);
  });

  it('reports the provider address without port security as such, with no rule', async () => {
    const lab = await loadLab();
    const security = lab.security.get('127.43.0.167');
    assert.deepEqual(security, { portSecurity: false, public: true, rules: [] });
    assert.deepEqual(findAdmittingRules('127.43.0.167', 2375, 'tcp', security), []);
  });

  it('knows no port for an unbound floating IP, and a tenant address is not public', async () => {
    const lab = await loadLab();
    assert.equal(lab.security.get('127.42.0.12'), undefined);
    assert.equal(lab.security.get('10.10.1.94')?.public, false);
    assert.equal(lab.security.get('10.10.1.94')?.portSecurity, true);
  });
});

describe('findLatentExposures on the recorded lab', () => {
  it('lists every high or critical port world-open rules admit to public VM addresses, and all ports without port security', async () => {
    const lab = await loadLab();
    const latent = findLatentExposures({
      security: lab.security,
      owners: lab.owners,
      rules: DEFAULT_RULES,
      scanned: () => true,
      now: NOW,
    });
    assert.deepEqual(latentTable(latent).sort(), [
      `127.42.0.11 27017/tcp high alpha-web ${RULE_27017_27018}`,
      `127.42.0.11 27018/tcp high alpha-web ${RULE_27017_27018}`,
      `127.42.0.11 6379/tcp high alpha-web ${RULE_6379}`,
      `127.42.0.21 all/tcp critical beta-open ${RULE_BETA_ALL_TCP}`,
      '127.43.0.167 all/tcp critical - -',
      '127.43.0.167 all/udp critical - -',
    ]);
    assert.equal(latent.find((l) => l.ip === '127.42.0.11')?.owner.ownerKind, 'compute');
  });

  it('leaves out router gateways, which have no port security but are no VM', async () => {
    const lab = await loadLab();
    assert.equal(lab.security.get('127.42.0.228')?.portSecurity, false);
    const latent = findLatentExposures({
      security: lab.security,
      owners: lab.owners,
      rules: DEFAULT_RULES,
      scanned: () => true,
      now: NOW,
    });
    assert.deepEqual(
      latent.filter((l) => l.ip === '127.42.0.228'),
      [],
    );
  });

  it('lists only the addresses this replica scans', async () => {
    const lab = await loadLab();
    const latent = findLatentExposures({
      security: lab.security,
      owners: lab.owners,
      rules: DEFAULT_RULES,
      scanned: (ip) => ip === '127.42.0.21',
      now: NOW,
    });
    assert.deepEqual(latentTable(latent), [`127.42.0.21 all/tcp critical beta-open ${RULE_BETA_ALL_TCP}`]);
  });
});

/** A world-open IPv4 TCP rule for port 6379; each test changes what it is about. */
function rule(overrides: Partial<IngressRule> = {}): IngressRule {
  return {
    securityGroupId: 'sg-1',
    securityGroup: 'web',
    ruleId: 'rule-1',
    ethertype: 'IPv4',
    protocol: 'tcp',
    portMin: 6379,
    portMax: 6379,
    remoteIpPrefix: '0.0.0.0/0',
    remoteGroupId: null,
    ...overrides,
  };
}

function securityOf(rules: readonly IngressRule[], overrides: Partial<AddressSecurity> = {}): AddressSecurity {
  return { portSecurity: true, public: true, rules, ...overrides };
}

function admits(address: string, port: number, protocol: 'tcp' | 'udp', rules: readonly IngressRule[]): boolean {
  return findAdmittingRules(address, port, protocol, securityOf(rules)).length > 0;
}

describe('findAdmittingRules on rule tables', () => {
  it('matches the ethertype to the address family', () => {
    assert.equal(admits('203.0.113.7', 6379, 'tcp', [rule({ ethertype: 'IPv6', remoteIpPrefix: '::/0' })]), false);
    assert.equal(admits('2001:db8::7', 6379, 'tcp', [rule()]), false);
    assert.deepEqual(
      findAdmittingRules('2001:db8::7', 6379, 'tcp', securityOf([rule({ ethertype: 'IPv6', remoteIpPrefix: null })])),
      [{ securityGroupId: 'sg-1', securityGroup: 'web', ruleId: 'rule-1', remote: '::/0' }],
    );
  });

  it('reads a missing protocol as any protocol', () => {
    const anyProtocol = [rule({ protocol: null, portMin: null, portMax: null })];
    assert.equal(admits('203.0.113.7', 6379, 'tcp', anyProtocol), true);
    assert.equal(admits('203.0.113.7', 53, 'udp', anyProtocol), true);
    assert.equal(admits('203.0.113.7', 53, 'udp', [rule({ protocol: 'any', portMin: null, portMax: null })]), true);
  });

  it('reads a protocol given by number as that protocol only', () => {
    assert.equal(admits('203.0.113.7', 6379, 'tcp', [rule({ protocol: '6' })]), true);
    assert.equal(admits('203.0.113.7', 6379, 'udp', [rule({ protocol: '6' })]), false);
    assert.equal(admits('203.0.113.7', 6379, 'udp', [rule({ protocol: '17' })]), true);
    assert.equal(admits('203.0.113.7', 6379, 'tcp', [rule({ protocol: '17' })]), false);
    assert.equal(admits('203.0.113.7', 6379, 'tcp', [rule({ protocol: 'icmp', portMin: null, portMax: null })]), false);
  });

  it('admits a port inside the range, its ends included, and none outside', () => {
    const range = [rule({ portMin: 8000, portMax: 8100 })];
    assert.deepEqual(
      [7999, 8000, 8050, 8100, 8101].map((port) => admits('203.0.113.7', port, 'tcp', range)),
      [false, true, true, true, false],
    );
  });

  it('admits a single port only, and every port without a range', () => {
    assert.deepEqual(
      [6378, 6379, 6380].map((port) => admits('203.0.113.7', port, 'tcp', [rule()])),
      [false, true, false],
    );
    assert.equal(admits('203.0.113.7', 65535, 'tcp', [rule({ portMin: null, portMax: null })]), true);
  });

  it('never counts a rule for a remote group as world-open, whatever its prefix', () => {
    assert.equal(
      admits('203.0.113.7', 6379, 'tcp', [rule({ remoteIpPrefix: null, remoteGroupId: 'sg-members' })]),
      false,
    );
    assert.equal(admits('203.0.113.7', 6379, 'tcp', [rule({ remoteGroupId: 'sg-members' })]), false);
  });

  it('never counts a narrow prefix as world-open', () => {
    assert.equal(admits('203.0.113.7', 6379, 'tcp', [rule({ remoteIpPrefix: '203.0.113.0/24' })]), false);
    assert.equal(admits('203.0.113.7', 6379, 'tcp', [rule({ remoteIpPrefix: '0.0.0.0/1' })]), false);
  });

  it('writes a missing prefix as 0.0.0.0/0 and keeps a given one as Neutron wrote it', () => {
    assert.equal(
      findAdmittingRules('203.0.113.7', 6379, 'tcp', securityOf([rule({ remoteIpPrefix: null })]))[0]?.remote,
      '0.0.0.0/0',
    );
    assert.equal(findAdmittingRules('203.0.113.7', 6379, 'tcp', securityOf([rule()]))[0]?.remote, '0.0.0.0/0');
  });

  it('names every admitting rule, in the order the groups list them', () => {
    const rules = [
      rule({ ruleId: 'a' }),
      rule({ ruleId: 'b', remoteIpPrefix: '10.0.0.0/8' }),
      rule({ ruleId: 'c', portMin: 6000, portMax: 7000 }),
    ];
    assert.deepEqual(
      findAdmittingRules('203.0.113.7', 6379, 'tcp', securityOf(rules)).map((r) => r.ruleId),
      ['a', 'c'],
    );
  });

  it('admits nothing without port security or without a known port', () => {
    assert.deepEqual(findAdmittingRules('203.0.113.7', 6379, 'tcp', securityOf([rule()], { portSecurity: false })), []);
    assert.deepEqual(findAdmittingRules('203.0.113.7', 6379, 'tcp', undefined), []);
  });
});

describe('findLatentExposures on rule tables', () => {
  const VM = SHOP_DB;
  const find = (
    rules: readonly IngressRule[],
    options: { security?: Partial<AddressSecurity>; owner?: AddressOwner; yaml?: string; scanned?: boolean } = {},
  ): string[] =>
    latentTable(
      findLatentExposures({
        security: new Map([['203.0.113.7', securityOf(rules, options.security)]]),
        owners: new Map([['203.0.113.7', options.owner ?? VM]]),
        rules: rulesWith(options.yaml ?? '{}'),
        scanned: () => options.scanned ?? true,
        now: NOW,
      }),
    );

  it('counts a range once per high or critical port of the severity table inside it', () => {
    assert.deepEqual(find([rule({ portMin: 3300, portMax: 3310 })]), ['203.0.113.7 3306/tcp high web rule-1']);
    assert.deepEqual(find([rule({ portMin: 2375, portMax: 2379 })]), [
      '203.0.113.7 2375/tcp critical web rule-1',
      '203.0.113.7 2376/tcp critical web rule-1',
      '203.0.113.7 2379/tcp critical web rule-1',
    ]);
  });

  it('leaves out ranges with only medium, low or standard ports', () => {
    assert.deepEqual(find([rule({ portMin: 21, portMax: 22 }), rule({ portMin: 8000, portMax: 8100 })]), []);
  });

  it('counts a rule without a port range as all ports, critical, for each protocol it admits', () => {
    assert.deepEqual(find([rule({ portMin: null, portMax: null })]), ['203.0.113.7 all/tcp critical web rule-1']);
    assert.deepEqual(find([rule({ protocol: null, portMin: null, portMax: null })]), [
      '203.0.113.7 all/tcp critical web rule-1',
      '203.0.113.7 all/udp critical web rule-1',
    ]);
  });

  it('rates ports with the severity overrides and leaves out standard ports and live exceptions', () => {
    assert.deepEqual(
      find([rule({ portMin: 8080, portMax: 8080 })], { yaml: 'severity_overrides: {"8080/tcp": critical}' }),
      ['203.0.113.7 8080/tcp critical web rule-1'],
    );
    assert.deepEqual(find([rule()], { yaml: 'severity_overrides: {"6379/tcp": low}' }), []);
    assert.deepEqual(find([rule({ portMin: 22, portMax: 22 })], { yaml: 'severity_overrides: {"22/tcp": high}' }), []);
    const exception = 'exceptions: [{name: redis, match: {ports: ["6379/tcp"]}, reason: SEC-1, expires: 2099-01-01}]';
    assert.deepEqual(find([rule()], { yaml: exception }), []);
  });

  it('gives every port of an address without port security, with no rule', () => {
    assert.deepEqual(find([], { security: { portSecurity: false } }), [
      '203.0.113.7 all/tcp critical - -',
      '203.0.113.7 all/udp critical - -',
    ]);
  });

  it('ignores rules that are not world-open', () => {
    assert.deepEqual(
      find([rule({ remoteGroupId: 'sg-2' }), rule({ remoteIpPrefix: '203.0.113.0/24' }), rule({ ethertype: 'IPv6' })]),
      [],
    );
  });

  it('lists nothing for an address that is not public, not a VM or not scanned here', () => {
    assert.deepEqual(find([rule()], { security: { public: false } }), []);
    assert.deepEqual(find([rule()], { owner: { ...INFRA_CI, vmId: '', vmName: '', ownerKind: 'router_gateway' } }), []);
    assert.deepEqual(find([rule()], { scanned: false }), []);
  });

  it('carries the owner of the address', () => {
    const latent = findLatentExposures({
      security: new Map([['203.0.113.7', securityOf([rule()])]]),
      owners: new Map([['203.0.113.7', VM]]),
      rules: DEFAULT_RULES,
      scanned: () => true,
      now: NOW,
    });
    assert.deepEqual(latent, [
      {
        ip: '203.0.113.7',
        port: 6379,
        protocol: 'tcp',
        severity: 'high',
        securityGroupId: 'sg-1',
        securityGroup: 'web',
        ruleId: 'rule-1',
        owner: VM,
      },
    ]);
  });
});
