/**
 * Whether nmap may use raw sockets here: as root, or with CAP_NET_RAW. The best witness is nmap's own
 * process: its effective set shows a capability from any source, the exporter's ambient set (systemd's
 * AmbientCapabilities) or a file capability on the nmap binary (`setcap`, as in the container image), which
 * the exporter's own status cannot show. Without that, the exporter's effective and ambient sets decide.
 * Pure over /proc/<pid>/status texts.
 */
import type { Privilege } from './nmap-args.ts';

const CAP_NET_RAW_BIT = 13n;

export function detectPrivilege(input: {
  euid: number;
  procStatus: string;
  nmapProcStatus?: string | undefined;
}): Privilege {
  if (input.euid === 0) return 'root';
  if (input.nmapProcStatus !== undefined) return hasNetRaw(input.nmapProcStatus, ['CapEff']) ? 'net_raw' : 'none';
  return hasNetRaw(input.procStatus, ['CapEff', 'CapAmb']) ? 'net_raw' : 'none';
}

function hasNetRaw(procStatus: string, fields: readonly string[]): boolean {
  return fields.some((field) => {
    const match = new RegExp(`^${field}:\\s*([0-9a-fA-F]+)$`, 'm').exec(procStatus);
    return match?.[1] !== undefined && ((BigInt(`0x${match[1]}`) >> CAP_NET_RAW_BIT) & 1n) === 1n;
  });
}
