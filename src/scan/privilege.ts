/**
 * Whether nmap may use raw sockets (root or CAP_NET_RAW), best told by nmap's own /proc status, which shows
 * a file capability the exporter's cannot; else by the exporter's sets. Pure over /proc/<pid>/status texts.
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
