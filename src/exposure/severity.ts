// Severity by port number and protocol, never by nmap's service name guessed from its table (it calls
// Elasticsearch's 9200 wap-wsp); what -sV detects is service-severity.ts's.
import { SEVERITY_LEVELS } from '../config/severity-levels.ts';
import type { SeverityLevel } from '../config/severity-levels.ts';
import { portKey } from '../net/port-spec.ts';
import type { Protocol } from '../net/port-spec.ts';

/** Most severe first. */
export const SEVERITIES = SEVERITY_LEVELS;
export type Severity = SeverityLevel;

export type SeverityTable = ReadonlyMap<string, Severity>;

function tcpEntries(severity: Severity, ports: readonly number[]): [string, Severity][] {
  return ports.map((port) => [portKey(port, 'tcp'), severity]);
}

function udpEntries(severity: Severity, ports: readonly number[]): [string, Severity][] {
  return ports.map((port) => [portKey(port, 'udp'), severity]);
}

/** A port not listed is `low`. Every port listed joins the default scan sets, so those never go unscanned. */
export const BUILTIN_SEVERITIES: SeverityTable = new Map([
  // Remote code execution or cluster takeover: container APIs, device management, unauthenticated ICS protocols.
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
  // UDP reflectors for DDoS on others: high where one packet brings back tens to thousands of times its size.
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

export function builtinRiskyTcpPorts(): number[] {
  return builtinPorts('tcp');
}

export function builtinRiskyUdpPorts(): number[] {
  return builtinPorts('udp');
}

function builtinPorts(protocol: Protocol): number[] {
  return [...BUILTIN_SEVERITIES.keys()]
    .filter((key) => key.endsWith(`/${protocol}`))
    .map((key) => Number.parseInt(key, 10));
}

export function moreSevere(a: Severity, b: Severity): Severity {
  return SEVERITIES.indexOf(a) <= SEVERITIES.indexOf(b) ? a : b;
}
