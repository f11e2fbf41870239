/**
 * The OpenStack inventory: Nova servers of every project, Neutron floating IPs, ports, networks and
 * routers, Keystone project and user names, joined into who owns each address. It only reads and throws;
 * the caller keeps the last good inventory and reports health.
 */
import type { Inventory, InventorySnapshot } from '../core/inventory.ts';
import { ExporterError, OpenStackHttpError } from '../errors.ts';
import { StrictReader } from '../untyped/reader.ts';
import { buildAddressOwners } from './address-owners.ts';
import type { FloatingIpRecord, NetworkRecord, PortRecord, RouterRecord, ServerRecord } from './address-owners.ts';

/** What the inventory needs from a Keystone session: an authenticated GET of JSON from a catalog service. */
export interface OpenStackClient {
  getJson(serviceType: string, path: string, options: { signal: AbortSignal }): Promise<unknown>;
}

export interface OpenStackInventoryOptions {
  readonly client: OpenStackClient;
  /** Items per page for Nova and Neutron listings (their default maximum is 1000). */
  readonly pageSize?: number;
  readonly now?: () => Date;
}

/**
 * A body of the wrong shape makes the whole listing untrustworthy, so the read fails and the last good one
 * stays. Typed explicitly so TypeScript treats its `fail` as never returning and narrows after it.
 */
const response: StrictReader = new StrictReader((what, problem) => new ExporterError('OPENSTACK_HTTP', `unexpected response from ${what}: ${problem}`));

export class OpenStackInventory implements Inventory {
  readonly #client: OpenStackClient;
  readonly #pageSize: number;
  readonly #now: () => Date;

  constructor(options: OpenStackInventoryOptions) {
    this.#client = options.client;
    this.#pageSize = options.pageSize ?? 1000;
    this.#now = options.now ?? (() => new Date());
  }

  async load(options: { signal: AbortSignal }): Promise<InventorySnapshot> {
    const { signal } = options;
    // Sequential on purpose: a cloud API under load should see one request of ours at a time.
    const servers = (await this.#listAll('compute', 'servers/detail?all_tenants=1', 'servers', signal)).map(readServer);
    const floatingIps = (await this.#listAll('network', 'v2.0/floatingips', 'floatingips', signal)).map(readFloatingIp);
    const ports = (await this.#listAll('network', 'v2.0/ports', 'ports', signal)).map(readPort);
    const networks = (await this.#listAll('network', 'v2.0/networks', 'networks', signal)).map(readNetwork);
    const routers = (await this.#listAll('network', 'v2.0/routers', 'routers', signal)).map(readRouter);
    const warnings: string[] = [];
    const projectNames = await this.#readNames('projects', signal, warnings);
    const userNames = await this.#readNames('users', signal, warnings);
    const { owners, publicAddresses } = buildAddressOwners({ servers, floatingIps, ports, networks, routers, projectNames, userNames });
    return { source: 'openstack', up: true, syncedAt: this.#now(), servers: servers.length, owners, publicAddresses, warnings };
  }

  /**
   * Every page of a Nova or Neutron listing. The next page is requested with the marker from the `*_links`
   * next href, against the catalog endpoint: following the href itself would send our token to whatever
   * host the service thinks it is called, which behind a proxy is not the one the catalog names.
   */
  async #listAll(service: string, path: string, key: string, signal: AbortSignal): Promise<unknown[]> {
    const items: unknown[] = [];
    let marker: string | undefined;
    for (let page = 0; ; page += 1) {
      const query = new URLSearchParams({ limit: String(this.#pageSize) });
      if (marker !== undefined) query.set('marker', marker);
      const separator = path.includes('?') ? '&' : '?';
      const body = response.record(await this.#client.getJson(service, `${path}${separator}${query}`, { signal }), `${service} ${path}`);
      const pageItems = body[key];
      if (!Array.isArray(pageItems)) response.fail(`${service} ${path}`, `no "${key}" list`);
      items.push(...pageItems);
      const next = nextMarker(body[`${key}_links`]);
      // A page without items ends the listing even if a link says otherwise, so a buggy link cannot loop.
      if (next === undefined || pageItems.length === 0 || next === marker) return items;
      marker = next;
    }
  }

  /** Names from Keystone; a 403 (a reader without identity rights) means ids instead of names, with a warning. */
  async #readNames(kind: 'projects' | 'users', signal: AbortSignal, warnings: string[]): Promise<Map<string, string>> {
    try {
      const body = response.record(await this.#client.getJson('identity', kind, { signal }), `identity ${kind}`);
      const list = body[kind];
      if (!Array.isArray(list)) response.fail(`identity ${kind}`, `no "${kind}" list`);
      return new Map(list.map((item) => response.record(item, `identity ${kind}`)).map((item) => [text(item['id']), text(item['name'])]));
    } catch (err) {
      if (err instanceof OpenStackHttpError && err.status === 403) {
        warnings.push(`Keystone refused to list ${kind} (403); ${kind === 'users' ? 'user' : 'tenant'} labels show ids instead of names`);
        return new Map();
      }
      throw err;
    }
  }
}

function nextMarker(links: unknown): string | undefined {
  if (!Array.isArray(links)) return undefined;
  const next = links.map((link) => response.record(link, 'links')).find((link) => link['rel'] === 'next');
  if (!next || typeof next['href'] !== 'string') return undefined;
  return new URL(next['href'], 'http://placeholder').searchParams.get('marker') ?? undefined;
}

function readServer(raw: unknown): ServerRecord {
  const server = response.record(raw, 'compute server');
  const addresses = Object.values(response.record(server['addresses'] ?? {}, 'compute server addresses')).flatMap((list) =>
    Array.isArray(list) ? list.map((entry) => text(response.record(entry, 'compute server address')['addr'])).filter((a) => a !== '') : [],
  );
  return {
    id: response.requiredString(server['id'], 'compute server id'),
    name: text(server['name']),
    status: text(server['status']),
    tenantId: text(server['tenant_id']),
    userId: text(server['user_id']),
    addresses,
  };
}

function readFloatingIp(raw: unknown): FloatingIpRecord {
  const fip = response.record(raw, 'network floating IP');
  const details = fip['port_details'] ? response.record(fip['port_details'], 'network floating IP port_details') : undefined;
  return {
    address: response.requiredString(fip['floating_ip_address'], 'network floating IP floating_ip_address'),
    projectId: text(fip['project_id'] ?? fip['tenant_id']),
    portId: typeof fip['port_id'] === 'string' ? fip['port_id'] : null,
    deviceId: details && typeof details['device_id'] === 'string' && details['device_id'] !== '' ? details['device_id'] : null,
    deviceOwner: details && typeof details['device_owner'] === 'string' ? details['device_owner'] : null,
  };
}

function readPort(raw: unknown): PortRecord {
  const port = response.record(raw, 'network port');
  const fixedIps = Array.isArray(port['fixed_ips'])
    ? port['fixed_ips'].map((entry) => text(response.record(entry, 'network port fixed_ips')['ip_address'])).filter((a) => a !== '')
    : [];
  return {
    id: response.requiredString(port['id'], 'network port id'),
    networkId: text(port['network_id']),
    projectId: text(port['project_id'] ?? port['tenant_id']),
    deviceId: text(port['device_id']),
    deviceOwner: text(port['device_owner']),
    fixedIps,
  };
}

function readNetwork(raw: unknown): NetworkRecord {
  const network = response.record(raw, 'network');
  return { id: response.requiredString(network['id'], 'network id'), external: network['router:external'] === true, shared: network['shared'] === true };
}

function readRouter(raw: unknown): RouterRecord {
  const router = response.record(raw, 'network router');
  return { id: response.requiredString(router['id'], 'network router id'), projectId: text(router['project_id'] ?? router['tenant_id']) };
}

/** A field we can do without: a name or status missing from a listing reads as empty. */
function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}
