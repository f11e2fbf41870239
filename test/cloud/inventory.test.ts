/**
 * The inventory against the real seeded OpenStack lab (make openstack-up openstack-seed): every way of
 * authenticating, pagination, the joins, a non-admin's 403 and token renewal. Expectations come from
 * seed.json, written by the seed from the APIs independently of the exporter, and from the seed's fixed
 * names and addresses.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CloudCredentials } from '../../src/openstack/credentials/cloud-credentials.ts';
import { KeystoneSession } from '../../src/openstack/session/keystone.ts';
import { OpenStackInventory } from '../../src/openstack/inventory/openstack.ts';
import type { AddressOwner, InventorySnapshot } from '../../src/inventory/inventory.ts';
import { OPENSTACK_DEFAULTS, credentialsFor, loadCredentials, readSeed } from '../support/openstack-lab.ts';
import type { Seed } from '../support/openstack-lab.ts';

function sessionFor(credentials: CloudCredentials, options: { clock?: () => number; requests?: string[] } = {}) {
  return new KeystoneSession({
    credentials,
    requestTimeoutMs: 30_000,
    ...(options.clock ? { clock: options.clock } : {}),
    onRequest: (service) => options.requests?.push(service),
  });
}

async function readInventory(
  credentials: CloudCredentials,
  pageSize?: number,
  requests?: string[],
): Promise<InventorySnapshot> {
  const session = sessionFor(credentials, requests ? { requests } : {});
  try {
    const inventory = new OpenStackInventory({
      client: { getJson: (service, path, options) => session.get(service, path, options) },
      ...(pageSize ? { pageSize } : {}),
    });
    return await inventory.load({ signal: AbortSignal.timeout(120_000) });
  } finally {
    session.close();
  }
}

function describeOwner(owner: AddressOwner | undefined): string {
  if (!owner) return 'unknown';
  return `${owner.ownerKind} vm=${owner.vmName || '-'} user=${owner.user || '-'} tenant=${owner.tenant || '-'}`;
}

/** The owners the lab implies, by the seed's fixed names. */
function expectedOwners(seed: Seed): Record<string, string> {
  const provider = seed.provider_addresses['gamma-edge-1']?.[0] ?? 'missing';
  const fixed = seed.servers['alpha-db-1']?.addresses.find((a) => a.type === 'fixed')?.addr ?? 'missing';
  const gateways = Object.entries(seed.routers).map(
    ([name, router]) => [router.gateway_ips[0] ?? 'missing', name.split('-')[0]!] as const,
  );
  return {
    '127.42.0.11': 'compute vm=alpha-web-1 user=alice tenant=alpha',
    '127.42.0.21': 'compute vm=beta-app-1 user=bob tenant=beta',
    '127.42.0.12': 'floating_ip vm=- user=- tenant=alpha',
    [provider]: 'compute vm=gamma-edge-1 user=carol tenant=gamma',
    [fixed]: 'compute vm=alpha-db-1 user=alice tenant=alpha',
    ...Object.fromEntries(gateways.map(([ip, project]) => [ip, `router_gateway vm=- user=- tenant=${project}`])),
  };
}

function ownersOf(inventory: InventorySnapshot, ips: readonly string[]): Record<string, string> {
  return Object.fromEntries(ips.map((ip) => [ip, describeOwner(inventory.owners.get(ip))]));
}

describe('OpenStack inventory against the lab cloud', () => {
  let seed: Seed;
  let dir: string;
  let adminInventory: InventorySnapshot;

  before(async () => {
    seed = await readSeed();
    dir = await mkdtemp(join(tmpdir(), 'ee-cloud-'));
    adminInventory = await readInventory(await credentialsFor(seed, dir, 'lab-admin'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('password auth from clouds.yaml names the VM, user and tenant of every kind of address', () => {
    const expected = expectedOwners(seed);
    assert.deepEqual(ownersOf(adminInventory, Object.keys(expected)), expected);
    assert.equal(adminInventory.servers, 4);
    assert.deepEqual(adminInventory.warnings, []);
    const web = adminInventory.owners.get('127.42.0.11');
    assert.equal(web?.vmId, seed.servers['alpha-web-1']?.id);
    assert.equal(web?.userId, seed.users['alice']?.id);
    assert.equal(web?.tenantId, seed.projects['alpha']?.id);
    assert.equal(web?.vmStatus, 'ACTIVE');
  });

  it('counts floating IPs and external or shared network addresses as public, never tenant fixed IPs', () => {
    const publicAddresses = new Set(adminInventory.publicAddresses);
    for (const ip of [
      '127.42.0.11',
      '127.42.0.12',
      '127.42.0.21',
      ...(seed.provider_addresses['gamma-edge-1'] ?? []),
    ]) {
      assert.ok(publicAddresses.has(ip), `${ip} is public`);
    }
    assert.deepEqual(
      [...publicAddresses].filter((ip) => ip.startsWith('10.')),
      [],
    );
  });

  it('application credentials by id (OS_* variables) and by name with access rules (clouds.yaml) read the same inventory', async () => {
    const plain = seed.application_credentials.full;
    const byEnvironment = await loadCredentials(
      OPENSTACK_DEFAULTS,
      {
        OS_AUTH_TYPE: 'v3applicationcredential',
        OS_AUTH_URL: seed.auth_url,
        OS_APPLICATION_CREDENTIAL_ID: plain.id,
        OS_APPLICATION_CREDENTIAL_SECRET: plain.secret,
        OS_REGION_NAME: seed.region,
      },
      dir,
    );
    const restricted = await credentialsFor(seed, dir, 'lab-appcred-restricted');
    const expected = expectedOwners(seed);
    for (const credentials of [byEnvironment, restricted]) {
      const inventory = await readInventory(credentials);
      assert.deepEqual(ownersOf(inventory, Object.keys(expected)), expected);
    }
  });

  it('follows pagination with a page size of 1 to the same result', async () => {
    const requests: string[] = [];
    const paged = await readInventory(await credentialsFor(seed, dir, 'lab-admin'), 1, requests);
    assert.deepEqual(
      [...paged.owners].sort(([a], [b]) => a.localeCompare(b)),
      [...adminInventory.owners].sort(([a], [b]) => a.localeCompare(b)),
    );
    // Four servers one per page, plus the empty page that ends the listing.
    assert.equal(requests.filter((service) => service === 'compute').length, 5);
  });

  it("fails a non-admin reader's read with Nova's 403 instead of showing a cloud without servers", async () => {
    await assert.rejects(readInventory(await credentialsFor(seed, dir, 'lab-reader')), (err: unknown) => {
      const error = err as { code?: string; status?: number; message?: string };
      assert.equal(error.code, 'OPENSTACK_HTTP');
      assert.equal(error.status, 403);
      assert.match(error.message ?? '', /compute/);
      assert.doesNotMatch(error.message ?? '', new RegExp(seed.users['rita']?.password ?? 'secret'));
      return true;
    });
  });

  it('gives an observer that may list servers but not users or projects ids for names, with a warning each', async () => {
    const inventory = await readInventory(await credentialsFor(seed, dir, 'lab-observer'));
    assert.equal(inventory.servers, 4);
    assert.deepEqual(inventory.warnings, [
      'Keystone refused to list projects (403); tenant labels show ids instead of names',
      'Keystone refused to list users (403); user labels show ids instead of names',
    ]);
    // Neutron shows an observer only its own project's resources; Nova's addresses still name the VMs.
    const beta = inventory.owners.get('127.42.0.21');
    assert.deepEqual(
      [beta?.vmName, beta?.user, beta?.userId, beta?.tenant, beta?.tenantId],
      [
        'beta-app-1',
        seed.users['bob']?.id,
        seed.users['bob']?.id,
        seed.projects['beta']?.id,
        seed.projects['beta']?.id,
      ],
    );
  });

  it('issues a new token once the old one is about to expire, and reuses it before', async () => {
    let now = Date.now();
    const requests: string[] = [];
    const session = sessionFor(await credentialsFor(seed, dir, 'lab-admin'), { clock: () => now, requests });
    try {
      const first = await session.token(AbortSignal.timeout(30_000));
      const again = await session.token(AbortSignal.timeout(30_000));
      assert.equal(again.value, first.value);
      now = first.expiresAt.getTime() - 1000;
      const renewed = await session.token(AbortSignal.timeout(30_000));
      assert.notEqual(renewed.value, first.value);
      assert.equal(requests.filter((service) => service === 'identity').length, 2);
      // The renewed token works against Nova.
      const servers = (await session.get('compute', 'servers/detail?all_tenants=1', {
        signal: AbortSignal.timeout(30_000),
      })) as {
        servers: unknown[];
      };
      assert.equal(servers.servers.length, 4);
    } finally {
      session.close();
    }
  });
});
