#!/usr/bin/python3
"""Smoke test of a seeded lab over plain HTTP, driven by seed.json: the calls the exporter will make, with
each credential it may be given. Exit status 1 if any check fails."""
import json
import os
import sys
import urllib.parse

import labclient as lc

with open(os.path.join(lc.STATE, "seed.json")) as f:
    seed = json.load(f)
failures = 0


def path(url):
    parts = urllib.parse.urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def check(what, ok, detail=""):
    global failures
    failures += not ok
    print(f"{'ok  ' if ok else 'FAIL'} {what}{'' if ok else ': ' + str(detail)}")


compute, network = seed["endpoints"]["compute"], seed["endpoints"]["network"]
admin, _ = lc.password_token("admin", seed["admin"]["password"], seed["admin"]["project"])
check("admin password token (project admin)", bool(admin))

status, _, body = lc.call("GET", f"{compute}/servers/detail?all_tenants=1", admin)
servers = {s["name"]: s for s in (body or {}).get("servers", [])}
check("GET /v2.1/servers/detail?all_tenants=1 -> 200", status == 200, status)
for name, want in seed["servers"].items():
    got = servers.get(name, {})
    addrs = sorted(a["addr"] for items in got.get("addresses", {}).values() for a in items)
    check(f"server {name} ACTIVE, owned by {want['user']}@{want['project']}, addresses {addrs}",
          got.get("status") == "ACTIVE" and got.get("id") == want["id"] and got.get("user_id") == want["user_id"]
          and got.get("tenant_id") == want["project_id"] and addrs == sorted(a["addr"] for a in want["addresses"]),
          got or "missing")
check("exactly the 4 seeded servers", sorted(servers) == sorted(seed["servers"]), sorted(servers))

fips = {f["floating_ip_address"]: f for f in lc.get(f"{network}/v2.0/floatingips", admin)["floatingips"]}
check("GET /v2.0/floatingips: the 3 seeded addresses", sorted(fips) == sorted(seed["floating_ips"]), sorted(fips))
for address, want in seed["floating_ips"].items():
    got = fips.get(address, {})
    device = (got.get("port_details") or {}).get("device_id")
    expected = seed["servers"][want["server"]]["id"] if want["server"] else None
    check(f"floating IP {address} -> {want['server'] or 'unbound'} ({got.get('status')})",
          device == expected and got.get("status") == ("ACTIVE" if expected else "DOWN"), got)

for kind, cred in seed["application_credentials"].items():
    token, _ = lc.app_cred_token(cred["id"], cred["secret"])
    for url in (f"{compute}/servers/detail?all_tenants=1", f"{network}/v2.0/floatingips",
                f"{network}/v2.0/ports", f"{network}/v2.0/networks", f"{network}/v2.0/routers",
                f"{seed['auth_url']}/projects", f"{seed['auth_url']}/users"):
        status = lc.call("GET", url, token)[0]
        check(f"app credential {cred['name']}: GET {path(url)} -> 200", status == 200, status)
    # Access rules are enforced by Nova and Neutron: anything not listed is refused.
    paths = [rule["path"] for rule in cred.get("access_rules") or []]
    for api_path in ("/v2.0/security-groups", "/v2.0/security-group-rules", "/v2.0/subnets"):
        want = 200 if not cred.get("access_rules") or api_path in paths else 401
        status = lc.call("GET", f"{network}{api_path}", token)[0]
        check(f"app credential {cred['name']}: GET {api_path} -> {want}", status == want, status)

for name, want in seed["ports"].items():
    port = lc.get(f"{network}/v2.0/ports/{want['id']}", admin)["port"]
    check(f"port of {name}: port security {want['port_security_enabled']}, {len(want['security_groups'])} groups",
          port["port_security_enabled"] == want["port_security_enabled"]
          and len(port["security_groups"]) == len(want["security_groups"]), port)

rita = seed["users"]["rita"]
token, _ = lc.password_token("rita", rita["password"], rita["project"])
for url in (f"{seed['auth_url']}/users", f"{compute}/servers/detail?all_tenants=1"):
    status = lc.call("GET", url, token)[0]
    check(f"rita (reader on alpha): GET {path(url)} -> 403", status == 403, status)

print(f"{failures} failed" if failures else "all checks passed")
sys.exit(1 if failures else 0)
