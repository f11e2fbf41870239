/**
 * Whether nmap may use raw sockets here: as root, or with CAP_NET_RAW in the effective or ambient set
 * (systemd's AmbientCapabilities, a container's added capability). Pure over /proc/self/status's text.
 */
import type { Privilege } from './nmap-args.ts';

const CAP_NET_RAW_BIT = 13n;

export function detectPrivilege(input: { euid: number; procStatus: string }): Privilege {
  if (input.euid === 0) return 'root';
  for (const field of ['CapEff', 'CapAmb']) {
    const match = new RegExp(`^${field}:\\s*([0-9a-fA-F]+)$`, 'm').exec(input.procStatus);
    if (match?.[1] && (BigInt(`0x${match[1]}`) >> CAP_NET_RAW_BIT) & 1n) return 'net_raw';
  }
  return 'none';
}
