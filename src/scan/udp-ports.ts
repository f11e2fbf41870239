/**
 * The UDP ports `scan.udp.ports: default` scans: the services that answer anyone and amplify what they are
 * sent, which the daily reports to network owners (Shadowserver's) are mostly about: chargen, DNS, TFTP,
 * portmapper, NTP, NetBIOS, SNMP, CLDAP, SLP, IPMI, SQL Server's browser, SSDP, Apple Remote Desktop,
 * WS-Discovery, SIP, NAT-PMP, mDNS, CoAP, Ubiquiti discovery, memcached and DVR discovery. nmap sends each its
 * protocol's own probe (nmap-payloads), so an answering service is told apart from a silent port.
 */
export const DEFAULT_UDP_PORTS =
  '19,53,69,111,123,137,161,389,427,623,1434,1900,3283,3702,5060,5351,5353,5683,10001,11211,37810';
