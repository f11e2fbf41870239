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
  readonly tenantId: string;
  readonly tenant: string;
}

/** Where owners come from: `openstack+file` when both are configured (OpenStack wins where both know an address). */
export type InventorySource = 'none' | 'openstack' | 'file' | 'openstack+file';

export const INVENTORY_SOURCES: readonly InventorySource[] = ['none', 'openstack', 'file', 'openstack+file'];

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
};

export const UNKNOWN_OWNER: AddressOwner = {
  vmId: '',
  vmName: '',
  vmStatus: '',
  ownerKind: '',
  userId: '',
  user: '',
  tenantId: '',
  tenant: '',
};

/** The owner of an address that an inventory is configured for but that none of its sources lists. */
export const UNLISTED_OWNER: AddressOwner = { ...UNKNOWN_OWNER, ownerKind: 'unknown' };
