/** Who owns each address (pure): a floating IP by its port's device, a fixed IP by its port, else Nova's list. */
import type { AddressOwner } from '../../inventory/inventory.ts';

export interface ServerRecord {
  readonly id: string;
  readonly name: string;
  readonly status: string;
  readonly tenantId: string;
  readonly userId: string;
  readonly addresses: readonly string[];
}

export interface FloatingIpRecord {
  readonly address: string;
  readonly projectId: string;
  readonly portId: string | null;
  /** From `port_details` (Neutron's fip-port-details extension), when the floating IP is bound. */
  readonly deviceId: string | null;
  readonly deviceOwner: string | null;
}

export interface PortRecord {
  readonly id: string;
  readonly networkId: string;
  readonly projectId: string;
  readonly deviceId: string;
  readonly deviceOwner: string;
  readonly fixedIps: readonly string[];
  /** Neutron's port_security_enabled; true where the port_security extension does not report it. */
  readonly portSecurity: boolean;
  readonly securityGroups: readonly string[];
}

export interface NetworkRecord {
  readonly id: string;
  readonly external: boolean;
  readonly shared: boolean;
}

export interface RouterRecord {
  readonly id: string;
  readonly projectId: string;
}

export interface InventoryListings {
  readonly servers: readonly ServerRecord[];
  readonly floatingIps: readonly FloatingIpRecord[];
  readonly ports: readonly PortRecord[];
  readonly networks: readonly NetworkRecord[];
  readonly routers: readonly RouterRecord[];
  /** id → name; empty when Keystone refused to list them (names then fall back to ids). */
  readonly projectNames: ReadonlyMap<string, string>;
  readonly userNames: ReadonlyMap<string, string>;
  readonly userEmails: ReadonlyMap<string, string>;
}

export interface AddressOwnership {
  readonly owners: ReadonlyMap<string, AddressOwner>;
  /** Floating IPs and fixed IPs on external or shared networks: only these are compared with scan.targets. */
  readonly publicAddresses: readonly string[];
}

export function buildAddressOwners(listings: InventoryListings): AddressOwnership {
  const servers = new Map(listings.servers.map((server) => [server.id, server]));
  const routerProjects = new Map(listings.routers.map((router) => [router.id, router.projectId]));
  const publicNetworks = new Set(listings.networks.filter((n) => n.external || n.shared).map((n) => n.id));
  const names = { projects: listings.projectNames, users: listings.userNames, emails: listings.userEmails };
  const owners = new Map<string, AddressOwner>();
  const publicAddresses = new Set<string>();

  // Floating IPs first: Neutron also lists a `network:floatingip` port holding each floating address, which
  // says nothing about who uses it.
  for (const fip of listings.floatingIps) {
    publicAddresses.add(fip.address);
    const device = fip.deviceId
      ? { id: fip.deviceId, owner: fip.deviceOwner ?? '', projectId: fip.projectId }
      : undefined;
    owners.set(fip.address, ownerOfDevice(device, { servers, routerProjects, names }) ?? unboundFloatingIp(fip, names));
  }
  for (const port of listings.ports) {
    for (const address of port.fixedIps) {
      if (publicNetworks.has(port.networkId)) publicAddresses.add(address);
      if (owners.has(address)) continue;
      const owner = ownerOfDevice(
        { id: port.deviceId, owner: port.deviceOwner, projectId: port.projectId },
        { servers, routerProjects, names },
      );
      if (owner) owners.set(address, owner);
    }
  }
  for (const server of listings.servers) {
    for (const address of server.addresses) {
      if (!owners.has(address)) owners.set(address, ownerOfServer(server, names));
    }
  }
  return { owners, publicAddresses: [...publicAddresses] };
}

interface Lookups {
  readonly servers: ReadonlyMap<string, ServerRecord>;
  readonly routerProjects: ReadonlyMap<string, string>;
  readonly names: Names;
}

interface Names {
  readonly projects: ReadonlyMap<string, string>;
  readonly users: ReadonlyMap<string, string>;
  readonly emails: ReadonlyMap<string, string>;
}

function ownerOfDevice(
  device: { id: string; owner: string; projectId: string } | undefined,
  lookups: Lookups,
): AddressOwner | undefined {
  if (!device) return undefined;
  const kind = ownerKindOf(device.owner);
  if (kind === 'floating_ip') return undefined;
  if (kind === 'compute') {
    const server = lookups.servers.get(device.id);
    // A server Nova did not list (deleted meanwhile, or in a cell that is down) still has a known id.
    return server
      ? ownerOfServer(server, lookups.names)
      : { ...nonVmOwner(kind, device.projectId, lookups.names), vmId: device.id };
  }
  // A router's gateway port has no project of its own; the router has.
  const projectId =
    kind === 'router_gateway' ? (lookups.routerProjects.get(device.id) ?? device.projectId) : device.projectId;
  return nonVmOwner(kind, projectId, lookups.names);
}

function ownerOfServer(server: ServerRecord, names: Names): AddressOwner {
  return {
    vmId: server.id,
    vmName: server.name,
    vmStatus: server.status,
    ownerKind: 'compute',
    userId: server.userId,
    user: nameOrId(names.users, server.userId),
    userEmail: names.emails.get(server.userId) ?? '',
    tenantId: server.tenantId,
    tenant: nameOrId(names.projects, server.tenantId),
  };
}

function unboundFloatingIp(fip: FloatingIpRecord, names: Names): AddressOwner {
  return nonVmOwner('floating_ip', fip.projectId, names);
}

function nonVmOwner(ownerKind: string, projectId: string, names: Names): AddressOwner {
  return {
    vmId: '',
    vmName: '',
    vmStatus: '',
    ownerKind,
    userId: '',
    user: '',
    userEmail: '',
    tenantId: projectId,
    tenant: nameOrId(names.projects, projectId),
  };
}

/** Without names from Keystone, an id still tells an operator whom to ask, where an empty label would not. */
function nameOrId(names: ReadonlyMap<string, string>, id: string): string {
  return names.get(id) ?? id;
}

/** Neutron's device_owner, reduced to what an operator tells apart; Octavia and old LBaaS both mean a load balancer. */
export function ownerKindOf(deviceOwner: string): string {
  if (deviceOwner.startsWith('compute:')) return 'compute';
  if (deviceOwner === 'network:router_gateway') return 'router_gateway';
  if (deviceOwner.startsWith('network:router_interface')) return 'router_interface';
  if (deviceOwner === 'network:floatingip') return 'floating_ip';
  if (deviceOwner === 'network:dhcp') return 'dhcp';
  if (deviceOwner === 'Octavia' || deviceOwner.startsWith('neutron:LOADBALANCER')) return 'load_balancer';
  if (deviceOwner === '') return 'unbound_port';
  return deviceOwner.replace(/^network:/, '');
}
