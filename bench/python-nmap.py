"""The baseline of bench/replay.ts: python-nmap (Debian's python3-nmap) reading one nmap -oX file whole.

Prints one JSON line: the up hosts it found, the open ports among them, the parse's wall and CPU time in
seconds (timed here, so Python's start-up is left out) and the process's peak resident set in KiB (Linux
reports ru_maxrss in KiB).
"""
import json
import resource
import sys
import time

import nmap

path = sys.argv[1]
started = time.perf_counter()
cpu_started = time.process_time()
with open(path, encoding="utf-8") as document:
    result = nmap.PortScanner().analyse_nmap_xml_scan(document.read())
seconds = time.perf_counter() - started
cpu_seconds = time.process_time() - cpu_started
hosts = result["scan"]
open_ports = sum(
    1
    for host in hosts.values()
    for protocol in ("tcp", "udp", "sctp")
    for port in host.get(protocol, {}).values()
    if port["state"] == "open"
)
print(json.dumps({
    "hosts": len(hosts),
    "open_ports": open_ports,
    "seconds": seconds,
    "cpu_seconds": cpu_seconds,
    "max_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
}))
