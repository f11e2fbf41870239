/**
 * The UDP ports `scan.udp.ports: default` scans: the amplifying services Shadowserver's daily reports are about
 * (DNS, NTP, SNMP, SSDP, memcached and the rest). nmap sends each its protocol's own probe.
 */
export const DEFAULT_UDP_PORTS =
  '19,53,69,111,123,137,161,389,427,623,1434,1900,3283,3702,5060,5351,5353,5683,10001,11211,37810';
