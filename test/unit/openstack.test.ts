/**
 * OpenStackInventory over recorded responses of the lab cloud (test/fixtures/openstack, recorded from a
 * real Keystone, Nova and Neutron; see its README). The client replays them by path, as the real session
 * would answer; the real cloud is exercised in test/integration.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { OpenStackInventory } from '../../src/openstack/inventory/openstack.ts';
import type { OpenStackClient } from '../../src/openstack/inventory/openstack.ts';
import type { AddressOwner } from '../../src/inventory/inventory.ts';
import { ExporterError, OpenStackHttpError } from '../../src/errors.ts';

function fixture(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`../fixtures/openstack/${name}`, import.meta.url), 'utf8'));
}

const SYNCED_AT = new Date('2026-11-26T13:20:00Z');

/** Answers each listing with its recording; pages of servers come from the limit=1 recordings. */
class RecordedClient implements OpenStackClient {
  readonly requests: string[] = [];
  readonly #refuse: ReadonlySet<string>;

  readonly #status: number;

  constructor(options: { refuse?: readonly string[]; status?: number } = {}) {
    this.#refuse = new Set(options.refuse ?? []);
    this.#status = options.status ?? 403;
  }

  async getJson(service: string, path: string): Promise<unknown> {
    this.requests.push(`${service} ${path}`);
    const resource = path.split('?')[0] ?? '';
    if (this.#refuse.has(resource)) {
      const code = this.#status === 401 ? 'OPENSTACK_AUTH' : 'OPENSTACK_HTTP';
      throw new OpenStackHttpError({
        code,
        status: this.#status,
        message: `GET ${service} ${resource} returned ${this.#status}`,
      });
    }
    const files: Record<string, string> = {
      'servers/detail': 'nova_servers_detail_all_tenants.json',
      'v2.0/floatingips': 'neutron_floatingips.json',
      'v2.0/ports': 'neutron_ports.json',
      'v2.0/networks': 'neutron_networks.json',
      'v2.0/routers': 'neutron_routers.json',
      // Recorded from a later lab than the other listings, so none of its groups is one of these ports'.
      'v2.0/security-groups': 'neutron_security_groups.json',
      projects: 'keystone_projects.json',
      users: 'keystone_users.json',
    };
    const file = files[resource];
    if (!file) throw new Error(`no recording for ${service} ${path}`);
    return fixture(file);
  }
}

function ownerTable(owners: ReadonlyMap<string, AddressOwner>, ips: readonly string[]): string[] {
  return ips.map((ip) => {
    const o = owners.get(ip);
    return o
      ? `${ip} ${o.ownerKind} vm=${o.vmName || '-'} status=${o.vmStatus || '-'} user=${o.user || '-'} tenant=${o.tenant || '-'}`
      : `${ip} unknown`;
  });
}

describe('OpenStackInventory', () => {
  it('names the VM, user and tenant behind floating IPs, provider addresses and fixed IPs', async () => {
    const inventory = await new OpenStackInventory({ client: new RecordedClient(), now: () => SYNCED_AT }).load({
      signal: AbortSignal.timeout(5000),
    });
    assert.equal(inventory.source, 'openstack');
    assert.equal(inventory.servers, 4);
    assert.equal(inventory.syncedAt, SYNCED_AT);
    assert.deepEqual(inventory.warnings, []);
    assert.deepEqual(
      ownerTable(inventory.owners, [
        '127.42.0.11',
        '127.42.0.21',
        '127.43.0.37',
        '10.10.1.78',
        '127.42.0.12',
        '127.42.0.141',
        '127.42.0.247',
      ]),
      [
        '127.42.0.11 compute vm=alpha-web-1 status=ACTIVE user=alice tenant=alpha',
        '127.42.0.21 compute vm=beta-app-1 status=ACTIVE user=bob tenant=beta',
        '127.43.0.37 compute vm=gamma-edge-1 status=ACTIVE user=carol tenant=gamma',
        '10.10.1.78 compute vm=alpha-db-1 status=ACTIVE user=alice tenant=alpha',
        // Allocated to alpha, bound to nothing.
        '127.42.0.12 floating_ip vm=- status=- user=- tenant=alpha',
        // The gateway port has no project; its router belongs to alpha and gamma.
        '127.42.0.141 router_gateway vm=- status=- user=- tenant=alpha',
        '127.42.0.247 router_gateway vm=- status=- user=- tenant=gamma',
      ],
    );
    const web = inventory.owners.get('127.42.0.11');
    assert.match(web?.vmId ?? '', /^[0-9a-f-]{36}$/);
    assert.match(web?.userId ?? '', /^[0-9a-f]{32}$/);
    assert.match(web?.tenantId ?? '', /^[0-9a-f]{32}$/);
  });

  it('lists as public only floating IPs and addresses on external or shared networks', async () => {
    const inventory = await new OpenStackInventory({ client: new RecordedClient() }).load({
      signal: AbortSignal.timeout(5000),
    });
    assert.deepEqual([...inventory.publicAddresses].sort(), [
      '127.42.0.11',
      '127.42.0.12',
      '127.42.0.141',
      '127.42.0.145',
      '127.42.0.21',
      '127.42.0.247',
      '127.43.0.37',
    ]);
  });

  it('falls back to ids for users and tenants when Keystone answers 403, with one warning each', async () => {
    const inventory = await new OpenStackInventory({
      client: new RecordedClient({ refuse: ['users', 'projects'] }),
    }).load({
      signal: AbortSignal.timeout(5000),
    });
    const web = inventory.owners.get('127.42.0.11');
    assert.equal(web?.vmName, 'alpha-web-1');
    assert.equal(web?.user, web?.userId);
    assert.equal(web?.tenant, web?.tenantId);
    assert.deepEqual(inventory.warnings, [
      'Keystone refused to list projects (403); tenant labels show ids instead of names',
      'Keystone refused to list users (403); user labels show ids instead of names',
    ]);
  });

  it('reads a refusal by its class: an error that only looks like a 403 from Keystone fails the read', async () => {
    const lookalike = Object.assign(new ExporterError('OPENSTACK_HTTP', 'GET identity users returned 403'), {
      status: 403,
    });
    const client: OpenStackClient = {
      async getJson(service, path) {
        if (path === 'users') throw lookalike;
        return new RecordedClient().getJson(service, path);
      },
    };
    await assert.rejects(
      new OpenStackInventory({ client }).load({ signal: AbortSignal.timeout(5000) }),
      (err: unknown) => err === lookalike,
    );
  });

  it('fails on a 403 from Nova instead of pretending the cloud has no servers', async () => {
    await assert.rejects(
      new OpenStackInventory({ client: new RecordedClient({ refuse: ['servers/detail'] }) }).load({
        signal: AbortSignal.timeout(5000),
      }),
      { code: 'OPENSTACK_HTTP', message: 'GET compute servers/detail returned 403' },
    );
  });

  it('follows Nova pagination by marker against the catalog endpoint, never the link host', async () => {
    const pages = [
      fixture('nova_servers_detail_all_tenants_limit1.json'),
      fixture('nova_servers_detail_all_tenants_limit1_page2.json'),
    ];
    const requests: string[] = [];
    const paging: OpenStackClient = {
      async getJson(service, path) {
        requests.push(path);
        if (service === 'compute') {
          // Two recorded pages, then an empty one as Nova answers past the last server.
          return pages[requests.filter((p) => p.startsWith('servers')).length - 1] ?? { servers: [] };
        }
        return new RecordedClient().getJson(service, path);
      },
    };
    const inventory = await new OpenStackInventory({ client: paging, pageSize: 1 }).load({
      signal: AbortSignal.timeout(5000),
    });
    const serverRequests = requests.filter((p) => p.startsWith('servers'));
    const firstMarker = new URL(
      (pages[0] as { servers_links: { href: string }[] }).servers_links[0]?.href ?? '',
    ).searchParams.get('marker');
    assert.equal(serverRequests[0], 'servers/detail?all_tenants=1&limit=1');
    assert.equal(serverRequests[1], `servers/detail?all_tenants=1&limit=1&marker=${firstMarker}`);
    // Page 2 links on to a third request, which comes back empty and ends the listing.
    assert.equal(serverRequests.length, 3);
    assert.equal(serverRequests[2], 'servers/detail?all_tenants=1&limit=1&marker=3290d25e-d3b7-4a73-a44e-0a103f495214');
    assert.equal(inventory.servers, 2);
    assert.equal(inventory.owners.get('127.43.0.37')?.vmName, 'gamma-edge-1');
    assert.ok(
      requests.every((path) => !path.startsWith('http')),
      'paths only, never absolute links',
    );
  });

  it('rejects a listed item without its id as an unexpected response, naming the field', async () => {
    const client: OpenStackClient = {
      async getJson(service, path) {
        if (path.startsWith('v2.0/ports')) return { ports: [{ network_id: 'n-1', fixed_ips: [] }] };
        return new RecordedClient().getJson(service, path);
      },
    };
    await assert.rejects(new OpenStackInventory({ client }).load({ signal: AbortSignal.timeout(5000) }), {
      code: 'OPENSTACK_HTTP',
      message: 'unexpected response from network port id: missing',
    });
  });

  it('gives each VM owner the email Keystone lists for the user, and none to a user without one', async () => {
    const inventory = await new OpenStackInventory({ client: new RecordedClient() }).load({
      signal: AbortSignal.timeout(5000),
    });
    assert.equal(inventory.owners.get('127.42.0.11')?.userEmail, 'alice@example.test');
    assert.equal(inventory.owners.get('127.43.0.37')?.userEmail, 'carol@example.test');
    assert.equal(inventory.owners.get('127.42.0.141')?.userEmail, '');
    const refused = await new OpenStackInventory({ client: new RecordedClient({ refuse: ['users'] }) }).load({
      signal: AbortSignal.timeout(5000),
    });
    assert.equal(refused.owners.get('127.42.0.11')?.userEmail, '');
  });

  it('reads security groups last, after the Keystone names', async () => {
    const client = new RecordedClient();
    await new OpenStackInventory({ client }).load({ signal: AbortSignal.timeout(5000) });
    assert.deepEqual(client.requests.slice(-3), [
      'identity projects',
      'identity users',
      'network v2.0/security-groups?limit=1000',
    ]);
  });

  for (const status of [401, 403]) {
    it(`goes on without security groups when Neutron answers ${status} to them, with one warning`, async () => {
      const inventory = await new OpenStackInventory({
        client: new RecordedClient({ refuse: ['v2.0/security-groups'], status }),
      }).load({
        signal: AbortSignal.timeout(5000),
      });
      assert.equal(inventory.owners.get('127.42.0.11')?.vmName, 'alpha-web-1');
      assert.equal(inventory.security.size, 0);
      assert.deepEqual(inventory.warnings, [
        `Neutron refused to list security groups (${status}); exposures show no admitting rules and latent exposures are not reported`,
      ]);
    });
  }

  it('fails on any other error from the security group listing instead of reporting no rules', async () => {
    const client: OpenStackClient = {
      async getJson(service, path) {
        if (path.startsWith('v2.0/security-groups')) {
          throw new OpenStackHttpError({
            code: 'OPENSTACK_HTTP',
            status: 500,
            message: 'GET network v2.0/security-groups returned 500',
          });
        }
        return new RecordedClient().getJson(service, path);
      },
    };
    await assert.rejects(new OpenStackInventory({ client }).load({ signal: AbortSignal.timeout(5000) }), {
      message: 'GET network v2.0/security-groups returned 500',
    });
  });

  it('follows security group pagination by marker as for the other Neutron listings', async () => {
    const requests: string[] = [];
    const groups = fixture('neutron_security_groups.json') as { security_groups: { id: string }[] };
    const firstPage = fixture('neutron_security_groups_limit1.json') as { security_groups: { id: string }[] };
    const client: OpenStackClient = {
      async getJson(service, path) {
        if (!path.startsWith('v2.0/security-groups')) return new RecordedClient().getJson(service, path);
        requests.push(path);
        const marker = new URLSearchParams(path.split('?')[1]).get('marker');
        if (marker === null) return firstPage;
        // The rest in one page with no next link, as Neutron answers a page that reaches the end.
        return { security_groups: groups.security_groups.slice(1) };
      },
    };
    const inventory = await new OpenStackInventory({ client, pageSize: 1 }).load({ signal: AbortSignal.timeout(5000) });
    assert.deepEqual(requests, [
      'v2.0/security-groups?limit=1',
      `v2.0/security-groups?limit=1&marker=${firstPage.security_groups[0]?.id}`,
    ]);
    assert.equal(inventory.warnings.length, 0);
  });

  it('rejects a security group rule of an unknown ethertype as an unexpected response', async () => {
    const client: OpenStackClient = {
      async getJson(service, path) {
        if (path.startsWith('v2.0/security-groups')) {
          return {
            security_groups: [
              {
                id: 'sg-1',
                name: 'web',
                security_group_rules: [{ id: 'r-1', direction: 'ingress', ethertype: 'IPX' }],
              },
            ],
          };
        }
        return new RecordedClient().getJson(service, path);
      },
    };
    await assert.rejects(new OpenStackInventory({ client }).load({ signal: AbortSignal.timeout(5000) }), {
      code: 'OPENSTACK_HTTP',
      message: 'unexpected response from network security group rule ethertype: not one of IPv4, IPv6',
    });
  });

  it('rejects a listing without its list as an unexpected response', async () => {
    const broken: OpenStackClient = { getJson: async () => ({ error: 'nope' }) };
    await assert.rejects(new OpenStackInventory({ client: broken }).load({ signal: AbortSignal.timeout(5000) }), {
      code: 'OPENSTACK_HTTP',
      message: 'unexpected response from compute servers/detail?all_tenants=1: no "servers" list',
    });
  });
});
