/** The open ports the benches' generated fleets draw from: what a cloud's VMs typically show, with nmap's service-table names. */
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
