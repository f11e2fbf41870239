/** What admits traffic to each address (pure): a floating IP is NATed to its bound port, whose groups filter it. */
import type { AddressSecurity, IngressRule } from '../../inventory/inventory.ts';
import type { FloatingIpRecord, NetworkRecord, PortRecord } from './address-owners.ts';

/** One security group with only its ingress rules: egress never decides whether a port is reachable. */
export interface SecurityGroupRecord {
  readonly id: string;
  readonly name: string;
  readonly ingressRules: readonly IngressRule[];
}

export interface SecurityListings {
  readonly floatingIps: readonly FloatingIpRecord[];
  readonly ports: readonly PortRecord[];
  readonly networks: readonly NetworkRecord[];
  readonly securityGroups: readonly SecurityGroupRecord[];
}

export function buildAddressSecurity(listings: SecurityListings): Map<string, AddressSecurity> {
  const groups = new Map(listings.securityGroups.map((group) => [group.id, group]));
  const ports = new Map(listings.ports.map((port) => [port.id, port]));
  const publicNetworks = new Set(listings.networks.filter((n) => n.external || n.shared).map((n) => n.id));
  const security = new Map<string, AddressSecurity>();
  const securityOf = (port: PortRecord, isPublic: boolean): AddressSecurity => ({
    portSecurity: port.portSecurity,
    public: isPublic,
    // Neutron filters nothing on a port without port security, whatever groups it might still list.
    rules: port.portSecurity ? port.securityGroups.flatMap((id) => groups.get(id)?.ingressRules ?? []) : [],
  });

  for (const fip of listings.floatingIps) {
    const port = fip.portId === null ? undefined : ports.get(fip.portId);
    // An unbound floating IP reaches no port: nothing admits anything to it.
    if (port) security.set(fip.address, securityOf(port, true));
  }
  for (const port of listings.ports) {
    // Neutron's port for each floating address filters nothing; the floating IP's entry above is the one that counts.
    if (port.deviceOwner === 'network:floatingip') continue;
    for (const address of port.fixedIps) {
      if (!security.has(address)) security.set(address, securityOf(port, publicNetworks.has(port.networkId)));
    }
  }
  return security;
}
