/** Nova, Neutron and Keystone listings joined into address owners and security; this only reads and throws. */
import type { IngressRule, Inventory, InventorySnapshot } from '../../inventory/inventory.ts';
import { ExporterError, OpenStackHttpError } from '../../errors.ts';
import { StrictValidator } from '../../validation/validator.ts';
import { buildAddressOwners } from './address-owners.ts';
import type { FloatingIpRecord, NetworkRecord, PortRecord, RouterRecord, ServerRecord } from './address-owners.ts';
import { buildAddressSecurity } from './address-security.ts';
import type { SecurityGroupRecord } from './address-security.ts';

export interface OpenStackClient {
  getJson(serviceType: string, path: string, options: { signal: AbortSignal }): Promise<unknown>;
}

export interface OpenStackInventoryOptions {
  readonly client: OpenStackClient;
  /** Items per page for Nova and Neutron listings (their default maximum is 1000). */
  readonly pageSize?: number;
  readonly now?: () => Date;
}

// A body of the wrong shape makes the whole listing untrustworthy: the read fails and the last good one stays.
// Typed explicitly so TypeScript treats `fail` as never returning and narrows after it.
const response: StrictValidator = new StrictValidator(
  (what, problem) => new ExporterError('OPENSTACK_HTTP', `unexpected response from ${what}: ${problem}`),
);

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
    const servers = (await this.#listAll('compute', 'servers/detail?all_tenants=1', 'servers', signal)).map(
      parseServerRecord,
    );
    const floatingIps = (await this.#listAll('network', 'v2.0/floatingips', 'floatingips', signal)).map(
      parseFloatingIpRecord,
    );
    const ports = (await this.#listAll('network', 'v2.0/ports', 'ports', signal)).map(parsePortRecord);
    const networks = (await this.#listAll('network', 'v2.0/networks', 'networks', signal)).map(parseNetworkRecord);
    const routers = (await this.#listAll('network', 'v2.0/routers', 'routers', signal)).map(parseRouterRecord);
    const warnings: string[] = [];
    const projects = await this.#readIdentity('projects', signal, warnings);
    const users = await this.#readIdentity('users', signal, warnings);
    // Last, so a credential without the security group access rules costs only this one request.
    const securityGroups = await this.#readSecurityGroups(signal, warnings);
    const { owners, publicAddresses } = buildAddressOwners({
      servers,
      floatingIps,
      ports,
      networks,
      routers,
      projectNames: namesOf(projects),
      userNames: namesOf(users),
      userEmails: emailsOf(users),
    });
    const security = securityGroups
      ? buildAddressSecurity({ floatingIps, ports, networks, securityGroups })
      : new Map();
    return {
      source: 'openstack',
      up: true,
      syncedAt: this.#now(),
      servers: servers.length,
      owners,
      publicAddresses,
      warnings,
      security,
    };
  }

  // Pages use the marker from the `*_links` next href, against the catalog endpoint: following the href would send
  // our token to whatever host the service thinks it is called, which behind a proxy is not the catalog's.
  async #listAll(service: string, path: string, key: string, signal: AbortSignal): Promise<unknown[]> {
    const items: unknown[] = [];
    let marker: string | undefined;
    for (;;) {
      const query = new URLSearchParams({ limit: String(this.#pageSize) });
      if (marker !== undefined) query.set('marker', marker);
      const separator = path.includes('?') ? '&' : '?';
      const body = response.record(
        await this.#client.getJson(service, `${path}${separator}${query}`, { signal }),
        `${service} ${path}`,
      );
      const pageItems = body[key];
      if (!Array.isArray(pageItems)) response.fail(`${service} ${path}`, `no "${key}" list`);
      items.push(...pageItems);
      const next = nextMarker(body[`${key}_links`]);
      // A page without items ends the listing even if a link says otherwise, so a buggy link cannot loop.
      if (next === undefined || pageItems.length === 0 || next === marker) return items;
      marker = next;
    }
  }

  /** A 403 (a reader without identity rights) means ids instead of names, with a warning. */
  async #readIdentity(
    kind: 'projects' | 'users',
    signal: AbortSignal,
    warnings: string[],
  ): Promise<Record<string, unknown>[]> {
    try {
      const body = response.record(await this.#client.getJson('identity', kind, { signal }), `identity ${kind}`);
      const list = body[kind];
      if (!Array.isArray(list)) response.fail(`identity ${kind}`, `no "${kind}" list`);
      return list.map((item) => response.record(item, `identity ${kind}`));
    } catch (err) {
      if (err instanceof OpenStackHttpError && err.status === 403) {
        warnings.push(
          `Keystone refused to list ${kind} (403); ${kind === 'users' ? 'user' : 'tenant'} labels show ids instead of names`,
        );
        return [];
      }
      throw err;
    }
  }

  /** Undefined when Neutron refuses: 401 (application credential access rules predating this listing), 403 (policy). */
  async #readSecurityGroups(signal: AbortSignal, warnings: string[]): Promise<SecurityGroupRecord[] | undefined> {
    try {
      return (await this.#listAll('network', 'v2.0/security-groups', 'security_groups', signal)).map(
        parseSecurityGroupRecord,
      );
    } catch (err) {
      if (err instanceof OpenStackHttpError && (err.status === 401 || err.status === 403)) {
        warnings.push(
          `Neutron refused to list security groups (${err.status}); exposures show no admitting rules and latent exposures are not reported`,
        );
        return undefined;
      }
      throw err;
    }
  }
}

function namesOf(items: readonly Record<string, unknown>[]): Map<string, string> {
  return new Map(items.map((item) => [text(item['id']), text(item['name'])]));
}

/** Keystone lists `email` only for users that have one (an optional attribute of the user). */
function emailsOf(users: readonly Record<string, unknown>[]): Map<string, string> {
  return new Map(
    users.filter((user) => text(user['email']) !== '').map((user) => [text(user['id']), text(user['email'])]),
  );
}

function nextMarker(links: unknown): string | undefined {
  if (!Array.isArray(links)) return undefined;
  const next = links.map((link) => response.record(link, 'links')).find((link) => link['rel'] === 'next');
  if (!next || typeof next['href'] !== 'string') return undefined;
  return new URL(next['href'], 'http://placeholder').searchParams.get('marker') ?? undefined;
}

function parseServerRecord(raw: unknown): ServerRecord {
  const server = response.record(raw, 'compute server');
  const addresses = Object.values(response.record(server['addresses'] ?? {}, 'compute server addresses')).flatMap(
    (list) =>
      Array.isArray(list)
        ? list.map((entry) => text(response.record(entry, 'compute server address')['addr'])).filter((a) => a !== '')
        : [],
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

function parseFloatingIpRecord(raw: unknown): FloatingIpRecord {
  const fip = response.record(raw, 'network floating IP');
  const details = fip['port_details']
    ? response.record(fip['port_details'], 'network floating IP port_details')
    : undefined;
  return {
    address: response.requiredString(fip['floating_ip_address'], 'network floating IP floating_ip_address'),
    projectId: text(fip['project_id'] ?? fip['tenant_id']),
    portId: typeof fip['port_id'] === 'string' ? fip['port_id'] : null,
    deviceId:
      details && typeof details['device_id'] === 'string' && details['device_id'] !== '' ? details['device_id'] : null,
    deviceOwner: details && typeof details['device_owner'] === 'string' ? details['device_owner'] : null,
  };
}

function parsePortRecord(raw: unknown): PortRecord {
  const port = response.record(raw, 'network port');
  const fixedIps = Array.isArray(port['fixed_ips'])
    ? port['fixed_ips']
        .map((entry) => text(response.record(entry, 'network port fixed_ips')['ip_address']))
        .filter((a) => a !== '')
    : [];
  return {
    id: response.requiredString(port['id'], 'network port id'),
    networkId: text(port['network_id']),
    projectId: text(port['project_id'] ?? port['tenant_id']),
    deviceId: text(port['device_id']),
    deviceOwner: text(port['device_owner']),
    fixedIps,
    portSecurity: port['port_security_enabled'] !== false,
    securityGroups: Array.isArray(port['security_groups'])
      ? port['security_groups'].filter((id) => typeof id === 'string')
      : [],
  };
}

function parseNetworkRecord(raw: unknown): NetworkRecord {
  const network = response.record(raw, 'network');
  return {
    id: response.requiredString(network['id'], 'network id'),
    external: network['router:external'] === true,
    shared: network['shared'] === true,
  };
}

function parseRouterRecord(raw: unknown): RouterRecord {
  const router = response.record(raw, 'network router');
  return {
    id: response.requiredString(router['id'], 'network router id'),
    projectId: text(router['project_id'] ?? router['tenant_id']),
  };
}

function parseSecurityGroupRecord(raw: unknown): SecurityGroupRecord {
  const group = response.record(raw, 'network security group');
  const id = response.requiredString(group['id'], 'network security group id');
  const name = text(group['name']);
  const rules = response.list(group['security_group_rules'] ?? [], 'network security group security_group_rules');
  const ingressRules = rules
    .map((rule) => response.record(rule, 'network security group rule'))
    .filter((rule) => rule['direction'] === 'ingress')
    .map((rule) => parseIngressRule(rule, { id, name }));
  return { id, name, ingressRules };
}

function parseIngressRule(rule: Record<string, unknown>, group: { id: string; name: string }): IngressRule {
  const what = 'network security group rule';
  return {
    securityGroupId: group.id,
    securityGroup: group.name,
    ruleId: response.requiredString(rule['id'], `${what} id`),
    ethertype: response.oneOf(rule['ethertype'], `${what} ethertype`, ['IPv4', 'IPv6'] as const),
    protocol: optionalText(rule['protocol']),
    portMin: optionalPort(rule['port_range_min'], `${what} port_range_min`),
    portMax: optionalPort(rule['port_range_max'], `${what} port_range_max`),
    remoteIpPrefix: optionalText(rule['remote_ip_prefix']),
    // A remote address group (newer Neutron) admits only its listed addresses, as a remote group admits only
    // its members: either one makes the rule not world-open, which is all the exporter needs to know.
    remoteGroupId: optionalText(rule['remote_group_id']) ?? optionalText(rule['remote_address_group_id']),
  };
}

function optionalText(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function optionalPort(value: unknown, path: string): number | null {
  if (value === null || value === undefined) return null;
  return response.count(value, path);
}

/** A field we can do without: a name or status missing from a listing reads as empty. */
function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}
