/**
 * What the scan is joined with: who owns each address. The OpenStack implementation lives in cloud/; the
 * core only sees this interface, so it runs the same with no cloud configured.
 */

/** The owner of one address. Every field is text, empty when unknown, so metric labels never go missing. */
export interface AddressOwner {
  readonly vmId: string;
  readonly vmName: string;
  readonly vmStatus: string;
  /** compute, router, load_balancer, … (the Neutron device_owner family); empty when unknown. */
  readonly ownerKind: string;
  readonly userId: string;
  readonly user: string;
  /** The user's email from Keystone, empty when the user has none or is unknown. */
  readonly userEmail: string;
  readonly tenantId: string;
  readonly tenant: string;
}

/** Where owners come from: `openstack+file` when both are configured (OpenStack wins where both know an address). */
export type InventorySource = 'none' | 'openstack' | 'file' | 'openstack+file';

export const INVENTORY_SOURCES: readonly InventorySource[] = ['none', 'openstack', 'file', 'openstack+file'];

/** One ingress rule of a security group, as Neutron lists it. */
export interface IngressRule {
  readonly securityGroupId: string;
  readonly securityGroup: string;
  readonly ruleId: string;
  readonly ethertype: 'IPv4' | 'IPv6';
  /** Neutron's text: a name (`tcp`), a number (`6`), or null for any protocol. */
  readonly protocol: string | null;
  readonly portMin: number | null;
  readonly portMax: number | null;
  readonly remoteIpPrefix: string | null;
  readonly remoteGroupId: string | null;
}

/** What admits traffic to one address: its Neutron port's security. */
export interface AddressSecurity {
  readonly portSecurity: boolean;
  /** A floating IP or an address on an external or shared network. */
  readonly public: boolean;
  readonly rules: readonly IngressRule[];
}

export interface InventorySnapshot {
  readonly source: InventorySource;
  readonly up: boolean;
  readonly syncedAt: Date | undefined;
  readonly servers: number;
  readonly owners: ReadonlyMap<string, AddressOwner>;
  /** Floating IPs and addresses on external or shared networks: the ones scan.targets should cover. */
  readonly publicAddresses: readonly string[];
  /** Problems that cost detail but not the inventory, such as names Keystone would not list. */
  readonly warnings: readonly string[];
  /** Keyed by address; empty when security groups could not be read. */
  readonly security: ReadonlyMap<string, AddressSecurity>;
}

export interface Inventory {
  load(options: { signal: AbortSignal }): Promise<InventorySnapshot>;
}

export const NO_INVENTORY: InventorySnapshot = {
  source: 'none',
  up: true,
  syncedAt: undefined,
  servers: 0,
  owners: new Map(),
  publicAddresses: [],
  warnings: [],
  security: new Map(),
};

export const UNKNOWN_OWNER: AddressOwner = {
  vmId: '',
  vmName: '',
  vmStatus: '',
  ownerKind: '',
  userId: '',
  user: '',
  userEmail: '',
  tenantId: '',
  tenant: '',
};

/** The owner of an address that an inventory is configured for but that none of its sources lists. */
export const UNLISTED_OWNER: AddressOwner = { ...UNKNOWN_OWNER, ownerKind: 'unknown' };
