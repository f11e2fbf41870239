// Who owns each address. The cycle sees only this interface, so it runs the same with no cloud configured.

/** Every field is text, empty when unknown, so metric labels never go missing. */
export interface AddressOwner {
  readonly vmId: string;
  readonly vmName: string;
  readonly vmStatus: string;
  /** compute, router, load_balancer, … (the Neutron device_owner family). */
  readonly ownerKind: string;
  readonly userId: string;
  readonly user: string;
  readonly userEmail: string;
  readonly tenantId: string;
  readonly tenant: string;
}

export type InventorySource = 'none' | 'openstack' | 'file' | 'openstack+file';

export const INVENTORY_SOURCES: readonly InventorySource[] = ['none', 'openstack', 'file', 'openstack+file'];

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

/** The owner of an address that no configured source lists. */
export const UNLISTED_OWNER: AddressOwner = { ...UNKNOWN_OWNER, ownerKind: 'unknown' };
