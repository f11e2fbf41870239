// `scan.udp.ports: default`: the amplifying services of Shadowserver's daily reports (DNS, NTP, SNMP, SSDP, …).
export const DEFAULT_UDP_PORTS =
  '19,53,69,111,123,137,161,389,427,623,1434,1900,3283,3702,5060,5351,5353,5683,10001,11211,37810';
