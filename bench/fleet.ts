/**
 * What the benches' generated fleets are made of: the open ports a cloud's VMs typically show (with nmap's
 * service-table names) and the VMs' owners, spread over tenants, roles and a number of users.
 */
import type { AddressOwner } from '../src/inventory/inventory.ts';
import type { ObservedPort } from '../src/scan/types.ts';

/** The standard ports of the default config. */
export const STANDARD_PORTS: readonly ObservedPort[] = [
  { port: 22, protocol: 'tcp', service: 'ssh' },
  { port: 80, protocol: 'tcp', service: 'http' },
  { port: 443, protocol: 'tcp', service: 'https' },
];
/** The nonstandard ones, of every severity. */
export const OTHER_PORTS: readonly ObservedPort[] = [
  { port: 873, protocol: 'tcp', service: 'rsync' },
  { port: 2375, protocol: 'tcp', service: 'docker' },
  { port: 3306, protocol: 'tcp', service: 'mysql' },
  { port: 3389, protocol: 'tcp', service: 'ms-wbt-server' },
  { port: 5432, protocol: 'tcp', service: 'postgresql' },
  { port: 5900, protocol: 'tcp', service: 'vnc' },
  { port: 6379, protocol: 'tcp', service: 'redis' },
  { port: 8080, protocol: 'tcp', service: 'http-proxy' },
  { port: 9200, protocol: 'tcp', service: 'wap-wsp' },
  { port: 11211, protocol: 'tcp', service: 'memcache' },
  { port: 27017, protocol: 'tcp', service: 'mongod' },
];

const TENANTS = ['shop', 'blog', 'infra', 'data', 'search', 'billing', 'ml', 'edge'] as const;
const ROLES = ['db', 'web', 'cache', 'ci', 'search', 'worker'] as const;

/** The owner of the fleet's VM number `index`: one of `users` users, each with a mail address at `emailDomain`. */
export function buildFleetOwner(
  index: number,
  options: { readonly users: number; readonly emailDomain: string },
): AddressOwner {
  const hex = index.toString(16).padStart(12, '0');
  const user = index % options.users;
  return {
    vmId: `8a2f6c1e-3b7d-4e59-9c1a-${hex}`,
    vmName: `${ROLES[index % ROLES.length]!}-${index}`,
    vmStatus: 'ACTIVE',
    ownerKind: 'compute',
    userId: `c0ffee${user.toString(16).padStart(26, '0')}`,
    user: `user-${user}`,
    userEmail: `user-${user}@${options.emailDomain}`,
    tenantId: `4b1d2e3f5a6b7c8d9e0f1a2b3c4d${(index % TENANTS.length).toString(16).padStart(4, '0')}`,
    tenant: TENANTS[index % TENANTS.length]!,
  };
}
