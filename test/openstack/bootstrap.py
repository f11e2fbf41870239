#!/usr/bin/python3
"""Steps of `lab.sh up` that talk HTTP.

  bootstrap.py wait-http URL...   wait until each URL answers (any status below 500)
  bootstrap.py catalog            service project, service users, services and endpoints (idempotent)
  bootstrap.py wait-compute       wait until conductor, scheduler and compute are up and placement knows the host
"""
import sys

import labclient as lc

# keystone-manage bootstrap made the identity service; these are the others, one URL for all interfaces.
SERVICES = [
    ("glance", "image", "http://127.0.0.1:9292"),
    ("placement", "placement", "http://127.0.0.1:8778"),
    ("nova", "compute", "http://127.0.0.1:8774/v2.1"),
    ("neutron", "network", "http://127.0.0.1:9696"),
]


def wait_http(urls):
    for url in urls:
        lc.wait_for(url, lambda: lc.call("GET", url, timeout=5)[0] < 500, timeout=240)


def find_or_create(token, collection, key, query, body):
    found = lc.get(f"{lc.AUTH_URL}/{collection}?{query}", token)[collection]
    if found:
        return found[0]
    return lc.call("POST", f"{lc.AUTH_URL}/{collection}", token, body={key: body}, expect=201)[2][key]


def catalog():
    token, _ = lc.admin_token()
    admin_role = lc.get(f"{lc.AUTH_URL}/roles?name=admin", token)["roles"][0]["id"]
    project = find_or_create(token, "projects", "project", "name=service",
                             {"name": "service", "domain_id": "default", "description": "service users"})
    for user_name, service_type, url in SERVICES:
        user = find_or_create(token, "users", "user", f"name={user_name}",
                              {"name": user_name, "domain_id": "default", "password": lc.SERVICE_PASSWORD})
        lc.call("PUT", f"{lc.AUTH_URL}/projects/{project['id']}/users/{user['id']}/roles/{admin_role}",
                token, expect=204)
        service = find_or_create(token, "services", "service", f"type={service_type}",
                                 {"name": user_name, "type": service_type})
        have = {e["interface"] for e in
                lc.get(f"{lc.AUTH_URL}/endpoints?service_id={service['id']}", token)["endpoints"]}
        for interface in ("public", "internal", "admin"):
            if interface not in have:
                lc.call("POST", f"{lc.AUTH_URL}/endpoints", token, expect=201, body={"endpoint": {
                    "service_id": service["id"], "interface": interface, "url": url, "region_id": lc.REGION}})
    print("keystone: service users and catalog in place")


def wait_compute():
    wanted = {"nova-conductor", "nova-scheduler", "nova-compute"}

    def all_up():
        token, body = lc.admin_token()
        services = lc.get(lc.endpoint(body, "compute") + "/os-services", token)["services"]
        up = {s["binary"] for s in services if s["state"] == "up" and s["status"] == "enabled"}
        providers = lc.get(lc.endpoint(body, "placement") + "/resource_providers", token)["resource_providers"]
        return wanted <= up and providers

    lc.wait_for("nova services up and a placement resource provider", all_up, timeout=240, interval=2)


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    {"wait-http": lambda: wait_http(args), "catalog": catalog, "wait-compute": wait_compute}[command]()
