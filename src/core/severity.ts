/**
 * Severity of a nonstandard open port by number and protocol, never by nmap's service name guessed from its
 * table (it calls Elasticsearch's 9200 wap-wsp); what -sV detects is service-severity.ts's.
 */
import { SEVERITY_LEVELS } from '../config/severity-levels.ts';
import type { SeverityLevel } from '../config/severity-levels.ts';
import { portKey } from '../net/port-spec.ts';
import type { Protocol } from '../net/port-spec.ts';

/** Most severe first; the same levels the config accepts in severity_overrides. */
export const SEVERITIES = SEVERITY_LEVELS;
export type Severity = SeverityLevel;

export type SeverityTable = ReadonlyMap<string, Severity>;

function tcpEntries(severity: Severity, ports: readonly number[]): [string, Severity][] {
  return ports.map((port) => [portKey(port, 'tcp'), severity]);
}

function udpEntries(severity: Severity, ports: readonly number[]): [string, Severity][] {
  return ports.map((port) => [portKey(port, 'udp'), severity]);
}

/**
 * The built-in table, which severity_overrides changes port by port; a port not in it is `low`. Every
 * TCP port here is also added to the default scan set, so the ports that matter most are never missed.
 */
export const BUILTIN_SEVERITIES: SeverityTable = new Map([
  // Remote code execution or cluster takeover when reachable: container and orchestration APIs, device
  // management and industrial control protocols that have no authentication.
  ...tcpEntries('critical', [2375, 2376, 6443, 2379, 4786, 5555, 502, 102, 20000, 44818]),
  // Data stores and caches, remote desktops and shells, Windows and directory services, Erlang's port mapper.
  ...tcpEntries(
    'high',
    [
      3306, 5432, 1433, 1521, 6379, 27017, 27018, 9200, 9300, 5601, 11211, 5984, 9042, 9092, 3389, 5900, 23, 445, 139,
      135, 389, 4369,
    ],
  ),
  ...tcpEntries('medium', [21, 873, 111, 1080, 1883, 5672, 88]),
  // UDP services that answer anyone with far more than they were sent: reflectors for DDoS attacks on others.
  // High where one packet brings back tens to thousands of times its size (SNMP, SSDP, memcached, CLDAP,
  // NetBIOS, IPMI, SQL Server's browser, SIP, SLP, Apple Remote Desktop, Ubiquiti and DVR discovery).
  ...udpEntries('high', [161, 1900, 11211, 389, 137, 623, 1434, 5060, 427, 3283, 10001, 37810]),
  // Medium for the smaller reflectors: DNS, NTP, chargen, portmapper, mDNS, WS-Discovery, TFTP, CoAP.
  ...udpEntries('medium', [53, 123, 19, 111, 5353, 3702, 69, 5683]),
]);

export function buildSeverityTable(overrides: ReadonlyMap<string, Severity>): SeverityTable {
  return new Map([...BUILTIN_SEVERITIES, ...overrides]);
}

export function severityOf(table: SeverityTable, port: number, protocol: Protocol): Severity {
  return table.get(portKey(port, protocol)) ?? 'low';
}

/** TCP ports named in the built-in table, which the default port set must always include. */
export function builtinRiskyTcpPorts(): number[] {
  return builtinPorts('tcp');
}

/** The same for the UDP pass's default port set. */
export function builtinRiskyUdpPorts(): number[] {
  return builtinPorts('udp');
}

function builtinPorts(protocol: Protocol): number[] {
  return [...BUILTIN_SEVERITIES.keys()]
    .filter((key) => key.endsWith(`/${protocol}`))
    .map((key) => Number.parseInt(key, 10));
}

/** The more severe of two levels. */
export function moreSevere(a: Severity, b: Severity): Severity {
  return SEVERITIES.indexOf(a) <= SEVERITIES.indexOf(b) ? a : b;
}
