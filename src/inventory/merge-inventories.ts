import { NO_INVENTORY } from './inventory.ts';
import type { InventorySnapshot } from './inventory.ts';

// OpenStack's owners win where both name an address: the cloud is the authority on its own addresses. The source
// says what is configured even before a first read, so an unlisted address is unknown from the first cycle on.
export function mergeInventories({
  openstack,
  file,
}: {
  readonly openstack?: InventorySnapshot | undefined;
  readonly file?: InventorySnapshot | undefined;
}): InventorySnapshot {
  if (!openstack && !file) return NO_INVENTORY;
  if (!file) return { ...openstack!, source: 'openstack' };
  if (!openstack) return { ...file, source: 'file' };
  const syncedAt = [openstack.syncedAt, file.syncedAt]
    .filter((at) => at !== undefined)
    .sort((a, b) => a.getTime() - b.getTime())[0];
  return {
    source: 'openstack+file',
    up: openstack.up && file.up,
    syncedAt,
    servers: openstack.servers + file.servers,
    owners: new Map([...file.owners, ...openstack.owners]),
    publicAddresses: openstack.publicAddresses,
    // Only Neutron knows security groups; a file inventory has none.
    security: openstack.security,
    warnings: [...openstack.warnings, ...file.warnings],
  };
}
