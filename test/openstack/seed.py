#!/usr/bin/python3
"""Seed the lab cloud over its public APIs and write $EXPOSURE_OSLAB_STATE/seed.json for the tests.

Idempotent: every object is looked up by name (floating IPs by address) and created only when missing, a
server left in ERROR is rebuilt, and an application credential is re-created only when the secret recorded
in seed.json no longer authenticates (Keystone shows a secret once, at creation).

Address plan: the external network `public` is 127.42.0.0/24 and the shared provider network 127.43.0.0/24.
Neutron accepts loopback subnets when DHCP is off, and every 127/8 address is local on `lo`, so each floating
IP, router gateway and provider address that Neutron reports is an address a test can listen on and nmap
can scan without leaving the machine. Tenant networks (10.x) exist only as database rows: never scan them.
"""
import json
import os
import subprocess
import sys
import time
import urllib.parse

import labclient as lc

HERE = os.path.dirname(os.path.abspath(__file__))
K = lc.AUTH_URL

PUBLIC = {"cidr": "127.42.0.0/24", "gateway": "127.42.0.1"}
PROVIDER = {"cidr": "127.43.0.0/24", "gateway": "127.43.0.1"}
# Pools start at .100 so that the addresses asked for by number below (the floating IPs .11, .12, .21) can
# never have been handed out already to a router gateway, which takes a random address from the pool.
PUBLIC_POOL = {"start": "127.42.0.100", "end": "127.42.0.250"}
PROVIDER_POOL = {"start": "127.43.0.100", "end": "127.43.0.250"}

# project, its member, tenant subnet
TENANTS = [("alpha", "alice", "10.10.1.0/24"), ("beta", "bob", "10.20.1.0/24"), ("gamma", "carol", "10.30.1.0/24")]
# Keystone's optional email attribute of each member: carol has none, so a VM owner without an address is
# part of the lab (the exporter reports an empty user_email for her VM).
EMAILS = {"alice": "alice@example.test", "bob": "bob@example.test", "carol": None}
READER = ("rita", "alpha")  # role reader on alpha only: not admin anywhere, for 403 tests
# Role observer on alpha, which lab.sh's Nova policy lets list every project's servers: Nova answers, Keystone
# refuses the names (403) and Neutron shows only alpha's own resources, as for a least-privilege monitor.
OBSERVER = ("otto", "alpha")
# server, booting user, network ("tenant" = its project's vxlan net, or "provider")
SERVERS = [("alpha-web-1", "alice", "tenant"), ("alpha-db-1", "alice", "tenant"),
           ("beta-app-1", "bob", "tenant"), ("gamma-edge-1", "carol", "provider")]
# address, owning project, server it points to (None: allocated to the project but unbound)
FLOATING_IPS = [("127.42.0.11", "alpha", "alpha-web-1"), ("127.42.0.12", "alpha", None),
                ("127.42.0.21", "beta", "beta-app-1")]
# What the exporter reads, and nothing else. Keystone does not enforce access rules on its own API (the
# identity rules are there for completeness); Nova and Neutron do, and answer 401 to any other call.
READ_ONLY_RULES = [
    {"service": "compute", "method": "GET", "path": "/v2.1/servers/detail"},
    {"service": "network", "method": "GET", "path": "/v2.0/floatingips"},
    {"service": "network", "method": "GET", "path": "/v2.0/ports"},
    {"service": "network", "method": "GET", "path": "/v2.0/networks"},  # which networks are external or shared
    {"service": "network", "method": "GET", "path": "/v2.0/routers"},  # whose router a gateway address is
    {"service": "identity", "method": "GET", "path": "/v3/projects"},
    {"service": "identity", "method": "GET", "path": "/v3/users"},
]
# Which security group rules admit each exposure (security groups embed their rules).
SECURITY_GROUP_RULES = [
    {"service": "network", "method": "GET", "path": "/v2.0/security-groups"},
    {"service": "network", "method": "GET", "path": "/v2.0/security-group-rules"},
]
# "no_security_groups" is a credential made before the exporter read security groups: the tests use it to
# show that such a credential still gives a complete inventory, only without the security group details.
APP_CREDS = {"full": ("exposure-exporter", None),
             "read_only": ("exposure-exporter-readonly", READ_ONLY_RULES + SECURITY_GROUP_RULES),
             "no_security_groups": ("exposure-exporter-no-secgroups", READ_ONLY_RULES)}
# Security groups per server, each made by the server's user in its project. Every rule is ingress. The
# lab's cases: a world-open rule on a port the tests listen on (6379), a range nobody listens on (latent
# 27017-27018, both rated high), a rule for IPv6 only on a server reached over IPv4 (3306: must not match),
# a narrow prefix (5432 from 203.0.113.0/24: not world-open), and a rule with no port range and no prefix
# (every TCP port, from anywhere). Each project's "default" group stays on its servers: its rules admit
# only members of the group (remote_group_id), which is not world-open either.
SECURITY_GROUPS = {
    "alpha-web": ("alpha", [
        {"ethertype": "IPv4", "protocol": "tcp", "port_range_min": 6379, "port_range_max": 6379,
         "remote_ip_prefix": "0.0.0.0/0"},
        {"ethertype": "IPv4", "protocol": "tcp", "port_range_min": 27017, "port_range_max": 27018,
         "remote_ip_prefix": "0.0.0.0/0"},
        {"ethertype": "IPv6", "protocol": "tcp", "port_range_min": 3306, "port_range_max": 3306,
         "remote_ip_prefix": "::/0"},
        {"ethertype": "IPv4", "protocol": "tcp", "port_range_min": 5432, "port_range_max": 5432,
         "remote_ip_prefix": "203.0.113.0/24"},
    ]),
    "beta-open": ("beta", [
        {"ethertype": "IPv4", "protocol": "tcp"},
    ]),
}
# server -> its groups besides "default"; gamma-edge-1's port has port security switched off instead.
SERVER_GROUPS = {"alpha-web-1": ["alpha-web"], "beta-app-1": ["beta-open"]}
NO_PORT_SECURITY = ["gamma-edge-1"]
FLAVOR_ID = "lab.tiny"
IMAGE_NAME = "lab-image"


def password_of(user):
    return f"{user}-lab-pass"


def log(msg, t0=time.monotonic()):
    print(f"[seed {time.monotonic() - t0:5.1f}s] {msg}", flush=True)


class Cloud:
    def __init__(self):
        self.admin, body = lc.admin_token()
        self.admin_user_id = body["user"]["id"]
        self.admin_project_id = body["project"]["id"]
        self.compute = lc.endpoint(body, "compute")
        self.network = lc.endpoint(body, "network")
        self.image = lc.endpoint(body, "image")

    # -- neutron: collections are filtered by query parameters, bodies are wrapped in the singular key
    def neutron_list(self, collection, token=None, **query):
        qs = urllib.parse.urlencode(query)
        return lc.get(f"{self.network}/v2.0/{collection}?{qs}", token or self.admin)[collection]

    def neutron_ensure(self, collection, body, token=None, **match):
        found = self.neutron_list(collection, token, **match)
        if found:
            return found[0]
        key = collection[:-1]
        return lc.call("POST", f"{self.network}/v2.0/{collection}", token or self.admin,
                       body={key: body}, expect=201)[2][key]

    def servers(self):
        return lc.get(f"{self.compute}/servers/detail?all_tenants=1", self.admin)["servers"]


# ------------------------------------------------------------------------------------------ keystone
def keystone_ensure(admin, collection, name, body):
    found = lc.get(f"{K}/{collection}?name={urllib.parse.quote(name)}", admin)[collection]
    if found:
        return found[0]
    key = collection[:-1]
    return lc.call("POST", f"{K}/{collection}", admin, body={key: dict(body, name=name)}, expect=201)[2][key]


def seed_identity(cloud):
    admin = cloud.admin
    roles = {r["name"]: r["id"] for r in lc.get(f"{K}/roles", admin)["roles"]}
    projects, users = {}, {}
    for project, user, _ in TENANTS:
        projects[project] = keystone_ensure(admin, "projects", project,
                                            {"domain_id": "default", "description": f"lab tenant {project}"})
        body = {"domain_id": "default", "password": password_of(user), "default_project_id": projects[project]["id"]}
        if EMAILS[user]:
            body["email"] = EMAILS[user]
        users[user] = keystone_ensure(admin, "users", user, body)
        if users[user].get("email") != EMAILS[user]:  # a lab seeded before the email table
            users[user] = lc.call("PATCH", f"{K}/users/{users[user]['id']}", admin, expect=200,
                                  body={"user": {"email": EMAILS[user]}})[2]["user"]
        users[user]["lab_role"] = ("member", project)
    reader, project = READER
    users[reader] = keystone_ensure(admin, "users", reader, {
        "domain_id": "default", "password": password_of(reader), "default_project_id": projects[project]["id"],
        "description": "reader on alpha, nothing else"})
    users[reader]["lab_role"] = ("reader", project)
    if "observer" not in roles:
        # 409: a concurrent seed made it first; either way it exists now.
        lc.call("POST", f"{K}/roles", admin, body={"role": {"name": "observer"}}, expect=(201, 409))
        roles = {r["name"]: r["id"] for r in lc.get(f"{K}/roles", admin)["roles"]}
    observer, project = OBSERVER
    users[observer] = keystone_ensure(admin, "users", observer, {
        "domain_id": "default", "password": password_of(observer), "default_project_id": projects[project]["id"],
        "description": "observer on alpha: may list all servers (Nova policy), nothing else"})
    users[observer]["lab_role"] = ("observer", project)
    for user in users.values():  # PUT is idempotent
        role, project = user["lab_role"]
        lc.call("PUT", f"{K}/projects/{projects[project]['id']}/users/{user['id']}/roles/{roles[role]}",
                admin, expect=204)
    log(f"keystone: projects {sorted(projects)}, users {sorted(users)}")
    return projects, users


def seed_app_creds(cloud, previous):
    """Application credentials of admin on project admin (so: admin role). read_only has access rules."""
    base = f"{K}/users/{cloud.admin_user_id}/application_credentials"
    out = {}
    for kind, (name, rules) in APP_CREDS.items():
        old = previous.get(kind) or {}
        existing = lc.get(f"{base}?name={name}", cloud.admin)["application_credentials"]
        # Rules cannot be changed on an existing credential: different rules mean a new one.
        if old.get("secret") and old.get("access_rules") == rules and any(c["id"] == old.get("id") for c in existing):
            try:
                lc.app_cred_token(old["id"], old["secret"])
                out[kind] = old
                continue
            except lc.HTTPError:
                pass
        for cred in existing:
            lc.call("DELETE", f"{base}/{cred['id']}", cloud.admin, expect=204)
        body = {"name": name, "description": f"exposure-exporter lab ({kind})"}
        if rules:
            body["access_rules"] = rules
        made = lc.call("POST", base, cloud.admin, body={"application_credential": body},
                       expect=201)[2]["application_credential"]
        out[kind] = {"id": made["id"], "name": name, "secret": made["secret"], "user_id": cloud.admin_user_id,
                     "project_id": cloud.admin_project_id, "access_rules": rules}
    log("keystone: application credentials " + ", ".join(c["name"] for c in out.values()))
    return out


# ------------------------------------------------------------------------------------------ glance, nova
def seed_flavor_and_image(cloud):
    if lc.call("GET", f"{cloud.compute}/flavors/{FLAVOR_ID}", cloud.admin)[0] == 404:
        lc.call("POST", f"{cloud.compute}/flavors", cloud.admin, expect=200, body={"flavor": {
            "id": FLAVOR_ID, "name": FLAVOR_ID, "ram": 256, "vcpus": 1, "disk": 1}})
    images = lc.get(f"{cloud.image}/v2/images?name={IMAGE_NAME}", cloud.admin)["images"]
    active = [i for i in images if i["status"] == "active"]
    if active:
        return active[0]["id"]
    for image in images:  # an upload that never finished
        lc.call("DELETE", f"{cloud.image}/v2/images/{image['id']}", cloud.admin)
    image = lc.call("POST", f"{cloud.image}/v2/images", cloud.admin, expect=201, body={
        "name": IMAGE_NAME, "disk_format": "raw", "container_format": "bare", "visibility": "public"})[2]
    # Nova checks imageRef against Glance (an image without data is "queued" and unbootable); the fake
    # driver never reads the bytes.
    lc.call("PUT", f"{cloud.image}/v2/images/{image['id']}/file", cloud.admin, data=b"\0" * 512, expect=204,
            headers={"Content-Type": "application/octet-stream"})
    return image["id"]


def boot_servers(cloud, networks, flavor, image):
    existing = {s["name"]: s for s in cloud.servers()}
    for name, user, where in SERVERS:
        server = existing.get(name)
        if server and server["status"] == "ERROR":  # e.g. a seed interrupted mid-boot: start over
            lc.call("DELETE", f"{cloud.compute}/servers/{server['id']}", cloud.admin, expect=204)
            lc.wait_for(f"{name} deleted", lambda: lc.call(
                "GET", f"{cloud.compute}/servers/{server['id']}", cloud.admin)[0] == 404, timeout=60)
            server = None
        if server:
            continue
        project = next(p for p, u, _ in TENANTS if u == user)
        # Booted by its own user with its own token, so Nova records that user_id and project.
        token, _ = lc.password_token(user, password_of(user), project)
        net = networks["provider"] if where == "provider" else networks[f"{project}-net"]
        lc.call("POST", f"{cloud.compute}/servers", token, expect=202, body={"server": {
            "name": name, "flavorRef": flavor, "imageRef": image, "networks": [{"uuid": net["id"]}]}})
        log(f"nova: {name} booted by {user}")

    def settled():
        by_name = {s["name"]: s for s in cloud.servers()}
        failed = [f"{n}: {by_name[n].get('fault')}" for n, _, _ in SERVERS if by_name[n]["status"] == "ERROR"]
        if failed:
            sys.exit("seed: servers in ERROR: " + "; ".join(failed))
        return all(by_name[n]["status"] == "ACTIVE" for n, _, _ in SERVERS) and by_name

    servers = lc.wait_for("4 servers ACTIVE", settled, timeout=240, interval=1)
    log("nova: all servers ACTIVE")
    return servers


# ------------------------------------------------------------------------------------------ neutron
def seed_networks(cloud, projects):
    networks = {}
    for name, plan, pool, extra in (
            ("public", PUBLIC, PUBLIC_POOL, {"router:external": True}),
            ("provider", PROVIDER, PROVIDER_POOL, {"shared": True})):
        net = cloud.neutron_ensure("networks", dict(extra, **{
            "name": name, "provider:network_type": "flat", "provider:physical_network": name}), name=name)
        # enable_dhcp false: that is what lets Neutron accept a 127.x subnet at all.
        cloud.neutron_ensure("subnets", {
            "name": f"{name}-subnet", "network_id": net["id"], "ip_version": 4, "cidr": plan["cidr"],
            "gateway_ip": plan["gateway"], "allocation_pools": [pool], "enable_dhcp": False},
            name=f"{name}-subnet")
        networks[name] = net
    for project, user, cidr in TENANTS:
        token, _ = lc.password_token(user, password_of(user), project)
        net = cloud.neutron_ensure("networks", {"name": f"{project}-net"}, token, name=f"{project}-net")
        subnet = cloud.neutron_ensure("subnets", {
            "name": f"{project}-subnet", "network_id": net["id"], "ip_version": 4, "cidr": cidr},
            token, name=f"{project}-subnet")
        router = cloud.neutron_ensure("routers", {
            "name": f"{project}-router", "external_gateway_info": {"network_id": networks["public"]["id"]}},
            token, name=f"{project}-router")
        if not cloud.neutron_list("ports", token, device_id=router["id"], device_owner="network:router_interface"):
            lc.call("PUT", f"{cloud.network}/v2.0/routers/{router['id']}/add_router_interface", token,
                    body={"subnet_id": subnet["id"]}, expect=200)
        networks[f"{project}-net"] = net
    log("neutron: public, provider, per-tenant networks and routers")
    return networks


def seed_floating_ips(cloud, networks, projects, servers):
    for address, project, server in FLOATING_IPS:
        port_id = None
        if server:
            port_id = cloud.neutron_list("ports", device_id=servers[server]["id"])[0]["id"]
        found = cloud.neutron_list("floatingips", floating_ip_address=address)
        if not found:
            # Only admin may pick the address and create it on another project's behalf.
            lc.call("POST", f"{cloud.network}/v2.0/floatingips", cloud.admin, expect=201, body={"floatingip": {
                "floating_network_id": networks["public"]["id"], "floating_ip_address": address,
                "project_id": projects[project]["id"], "port_id": port_id}})
        elif found[0]["port_id"] != port_id:
            lc.call("PUT", f"{cloud.network}/v2.0/floatingips/{found[0]['id']}", cloud.admin, expect=200,
                    body={"floatingip": {"port_id": port_id}})
    # No L3 agent: report the bound ones ACTIVE the way an agent would. Unbound ones stay DOWN, as in a
    # real cloud.
    to_activate = [f"{f['router_id']}:{f['id']}" for f in cloud.neutron_list("floatingips")
                   if f["port_id"] and f["status"] != "ACTIVE"]
    if to_activate:
        done = subprocess.run([sys.executable, os.path.join(HERE, "neutron_tools.py"), "fip-active",
                               os.path.join(lc.STATE, "etc/neutron/neutron.conf"), *to_activate],
                              capture_output=True, text=True)
        if done.returncode:
            sys.exit(f"seed: neutron_tools.py fip-active failed:\n{done.stdout}{done.stderr}")
    log(f"neutron: floating IPs {[a for a, _, _ in FLOATING_IPS]}, {len(to_activate)} newly ACTIVE")

    # Neutron tells Nova (network-changed event); Nova refreshes its cache and lists the floating IPs in
    # `addresses` a moment later. Wait for that, so seed.json and the APIs agree.
    wanted = {a for a, _, s in FLOATING_IPS if s}

    def visible():
        seen = {a["addr"] for s in cloud.servers() for net in s["addresses"].values() for a in net
                if a.get("OS-EXT-IPS:type") == "floating"}
        return wanted <= seen

    lc.wait_for("floating IPs in Nova's server addresses", visible, timeout=120, interval=1)


def seed_security_groups(cloud, servers):
    """The groups and rules of SECURITY_GROUPS, attached to the servers' ports; gamma-edge-1's port without
    port security (Neutron refuses that while the port has groups, so they are removed in the same update)."""
    tokens = {project: lc.password_token(user, password_of(user), project)[0] for project, user, _ in TENANTS}
    groups = {}
    for name, (project, rules) in SECURITY_GROUPS.items():
        token = tokens[project]
        found = lc.get(f"{cloud.network}/v2.0/security-groups?name={name}", token)["security_groups"]
        group = found[0] if found else lc.call("POST", f"{cloud.network}/v2.0/security-groups", token, expect=201, body={
            "security_group": {"name": name, "description": f"exposure-exporter lab ({project})"}})[2]["security_group"]
        for rule in rules:
            # 409: the same rule exists already (Neutron refuses duplicates), which is what idempotence wants.
            lc.call("POST", f"{cloud.network}/v2.0/security-group-rules", token, expect=(201, 409), body={
                "security_group_rule": dict(rule, direction="ingress", security_group_id=group["id"])})
        groups[name] = group["id"]
    for server, names in SERVER_GROUPS.items():
        user = next(u for s, u, _ in SERVERS if s == server)
        project = next(p for p, u, _ in TENANTS if u == user)
        token = tokens[project]
        default = lc.get(f"{cloud.network}/v2.0/security-groups?name=default&project_id="
                         f"{servers[server]['tenant_id']}", token)["security_groups"][0]["id"]
        wanted = sorted([default] + [groups[n] for n in names])
        port = cloud.neutron_list("ports", device_id=servers[server]["id"])[0]
        if sorted(port["security_groups"]) != wanted:
            lc.call("PUT", f"{cloud.network}/v2.0/ports/{port['id']}", token, expect=200,
                    body={"port": {"security_groups": wanted}})
    for server in NO_PORT_SECURITY:
        port = cloud.neutron_list("ports", device_id=servers[server]["id"])[0]
        if port["port_security_enabled"]:
            lc.call("PUT", f"{cloud.network}/v2.0/ports/{port['id']}", cloud.admin, expect=200,
                    body={"port": {"security_groups": [], "port_security_enabled": False}})
    log(f"neutron: security groups {sorted(groups)}, port security off on {NO_PORT_SECURITY}")


# ------------------------------------------------------------------------------------------ summary
def summary(cloud, projects, users, app_creds):
    project_name = {p["id"]: n for n, p in projects.items()}
    project_name[cloud.admin_project_id] = "admin"
    user_name = {u["id"]: n for n, u in users.items()}
    servers = {}
    for s in cloud.servers():
        addresses = [{"network": net, "addr": a["addr"], "type": a.get("OS-EXT-IPS:type"),
                      "version": a["version"], "mac": a.get("OS-EXT-IPS-MAC:mac_addr")}
                     for net, items in sorted(s["addresses"].items()) for a in items]
        servers[s["name"]] = {
            "id": s["id"], "name": s["name"], "status": s["status"], "host": s.get("OS-EXT-SRV-ATTR:host"),
            "project_id": s["tenant_id"], "project": project_name.get(s["tenant_id"]),
            "user_id": s["user_id"], "user": user_name.get(s["user_id"]), "addresses": addresses}
    server_name = {s["id"]: n for n, s in servers.items()}
    floating_ips = {}
    for f in cloud.neutron_list("floatingips"):
        details = f.get("port_details") or {}
        floating_ips[f["floating_ip_address"]] = {
            "id": f["id"], "address": f["floating_ip_address"], "status": f["status"],
            "project_id": f["project_id"], "project": project_name.get(f["project_id"]),
            "fixed_ip": f["fixed_ip_address"], "port_id": f["port_id"], "router_id": f["router_id"],
            "device_id": details.get("device_id"), "device_owner": details.get("device_owner"),
            "server": server_name.get(details.get("device_id"))}
    routers = {}
    for r in cloud.neutron_list("routers"):
        gateway = r.get("external_gateway_info") or {}
        routers[r["name"]] = {
            "id": r["id"], "project_id": r["project_id"], "project": project_name.get(r["project_id"]),
            "gateway_ips": [ip["ip_address"] for ip in gateway.get("external_fixed_ips", [])]}
    group_name = {}
    security_groups = {}
    for g in lc.get(f"{cloud.network}/v2.0/security-groups", cloud.admin)["security_groups"]:
        project = project_name.get(g["project_id"])
        if g["name"] not in SECURITY_GROUPS and not (g["name"] == "default" and project in projects):
            continue
        key = g["name"] if g["name"] != "default" else f"{project}-default"
        group_name[g["id"]] = key
        security_groups[key] = {
            "id": g["id"], "name": g["name"], "project": project, "project_id": g["project_id"],
            "rules": sorted(({k: r[k] for k in ("id", "direction", "ethertype", "protocol", "port_range_min",
                                                 "port_range_max", "remote_ip_prefix", "remote_group_id")}
                             for r in g["security_group_rules"]), key=lambda r: r["id"])}
    ports = {}
    for name, server in servers.items():
        for port in cloud.neutron_list("ports", device_id=server["id"]):
            ports[name] = {"id": port["id"], "port_security_enabled": port["port_security_enabled"],
                           "security_groups": sorted(group_name.get(g, g) for g in port["security_groups"]),
                           "fixed_ips": [ip["ip_address"] for ip in port["fixed_ips"]]}
    networks = {}
    for n in cloud.neutron_list("networks"):
        subnets = cloud.neutron_list("subnets", network_id=n["id"])
        networks[n["name"]] = {"id": n["id"], "project": project_name.get(n["project_id"]),
                               "external": n["router:external"], "shared": n["shared"],
                               "cidrs": [s["cidr"] for s in subnets]}
    return {
        "version": 1,
        "auth_url": K,
        "region": lc.REGION,
        "user_domain": "Default",
        "endpoints": {"identity": K, "compute": cloud.compute, "network": cloud.network, "image": cloud.image},
        "admin": {"username": "admin", "password": lc.ADMIN_PASSWORD, "user_id": cloud.admin_user_id,
                  "project": "admin", "project_id": cloud.admin_project_id},
        "projects": {n: {"id": i, "name": n} for i, n in sorted(project_name.items(), key=lambda x: x[1])},
        "users": {n: {"id": u["id"], "name": n, "password": password_of(n), "role": u["lab_role"][0],
                      "email": u.get("email"),
                      "project": u["lab_role"][1], "project_id": projects[u["lab_role"][1]]["id"]}
                  for n, u in sorted(users.items())},
        "servers": servers,
        "floating_ips": floating_ips,
        "routers": routers,
        "provider_addresses": {n: [a["addr"] for a in s["addresses"] if a["network"] == "provider"]
                               for n, s in servers.items() if any(a["network"] == "provider"
                                                                  for a in s["addresses"])},
        "networks": networks,
        "security_groups": security_groups,
        "ports": ports,
        "application_credentials": app_creds,
    }


def main():
    t0 = time.monotonic()
    out_path = os.path.join(lc.STATE, "seed.json")
    previous = {}
    if os.path.exists(out_path):
        with open(out_path) as f:
            previous = json.load(f).get("application_credentials", {})
    cloud = Cloud()
    projects, users = seed_identity(cloud)
    app_creds = seed_app_creds(cloud, previous)
    flavor, image = FLAVOR_ID, seed_flavor_and_image(cloud)
    networks = seed_networks(cloud, projects)
    servers = boot_servers(cloud, networks, flavor, image)
    seed_floating_ips(cloud, networks, projects, servers)
    seed_security_groups(cloud, servers)
    result = summary(cloud, projects, users, app_creds)
    tmp = out_path + ".tmp"
    with open(tmp, "w") as f:  # written whole, then renamed: a reader never sees half a file
        json.dump(result, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp, out_path)
    for s in sorted(result["servers"].values(), key=lambda s: s["name"]):
        print(f"  {s['name']:13} {s['status']:6} {s['project']}/{s['user']:6} "
              + ", ".join(f"{a['addr']} ({a['type']})" for a in s["addresses"]))
    for f in result["floating_ips"].values():
        print(f"  {f['address']:12} {f['status']:6} {f['project']:6} -> {f['server'] or '(unbound)'}")
    log(f"wrote {out_path} ({time.monotonic() - t0:.0f}s)")


if __name__ == "__main__":
    main()
