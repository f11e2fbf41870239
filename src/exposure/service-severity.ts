// Severity by what -sV finds answering (the service, or the product for HTTP): Redis moved to 7000 is still Redis.
import type { DetectedService } from '../scan/types.ts';
import type { Severity } from './severity.ts';

const BY_SERVICE: ReadonlyMap<string, Severity> = new Map([
  ...entries('critical', [
    'docker',
    'etcd',
    'kubernetes',
    'adb',
    'modbus',
    'iec-104',
    'siemens-s7',
    'ethernet-ip',
    'smart-install',
  ]),
  ...entries('high', [
    'redis',
    'mongodb',
    'mongod',
    'memcached',
    'memcache',
    'elasticsearch',
    'mysql',
    'postgresql',
    'ms-sql-s',
    'ms-sql-m',
    'oracle-tns',
    'couchdb',
    'cassandra',
    'kafka',
    'zookeeper',
    'ms-wbt-server',
    'vnc',
    'telnet',
    'microsoft-ds',
    'netbios-ssn',
    'netbios-ns',
    'msrpc',
    'ldap',
    'epmd',
    'x11',
    'snmp',
    'upnp',
    'ssdp',
    'asf-rmcp',
    'ipmi',
    'sip',
    'svrloc',
  ]),
  ...entries('medium', [
    'ftp',
    'rsync',
    'rpcbind',
    'socks5',
    'socks4',
    'mqtt',
    'amqp',
    'kerberos-sec',
    'domain',
    'ntp',
    'chargen',
    'mdns',
    'tftp',
    'coap',
    'ws-discovery',
  ]),
]);

/** Products that answer as `http` (or `ssl/http`), matched in nmap's product string. */
const BY_PRODUCT: readonly (readonly [RegExp, Severity])[] = [
  [/\bdocker\b/i, 'critical'],
  [/\bkubernetes\b/i, 'critical'],
  [/\betcd\b/i, 'critical'],
  [/\belasticsearch\b/i, 'high'],
  [/\bopensearch\b/i, 'high'],
  [/\bcouchdb\b/i, 'high'],
  [/\bkibana\b/i, 'high'],
];

function entries(severity: Severity, names: readonly string[]): [string, Severity][] {
  return names.map((name) => [name, severity]);
}

export function serviceSeverity(detected: DetectedService): Severity | undefined {
  const byProduct = BY_PRODUCT.find(([pattern]) => pattern.test(detected.product))?.[1];
  return byProduct ?? BY_SERVICE.get(detected.name);
}
