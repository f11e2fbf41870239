"""A small OpenStack HTTP client on Python's standard library, shared by bootstrap.py, seed.py and check.py.

Plain JSON over HTTP with X-Auth-Token, no keystoneauth or openstacksdk: what these scripts see is what the
exporter's own HTTP calls will see.
"""
import json
import os
import time
import urllib.error
import urllib.request

STATE = os.environ.get("EXPOSURE_OSLAB_STATE", "/var/lib/exposure-exporter-oslab")
AUTH_URL = "http://127.0.0.1:5000/v3"
REGION = "RegionOne"
ADMIN_PASSWORD = os.environ.get("EXPOSURE_OSLAB_ADMIN_PASSWORD", "admin")
SERVICE_PASSWORD = os.environ.get("EXPOSURE_OSLAB_SERVICE_PASSWORD", "lab-service-pass")

# Everything is on 127.0.0.1: never go through an http_proxy from the environment.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class HTTPError(Exception):
    def __init__(self, method, url, status, body):
        super().__init__(f"{method} {url} -> HTTP {status}: {str(body)[:500]}")
        self.status = status
        self.body = body


def call(method, url, token=None, body=None, expect=None, headers=None, data=None, timeout=60):
    """One request. Returns (status, headers, decoded JSON or text or None); raises HTTPError when `expect`
    (a status or a tuple of them) is given and not met."""
    req_headers = {"Accept": "application/json"}
    if body is not None:
        data = json.dumps(body).encode()
        req_headers["Content-Type"] = "application/json"
    if token:
        req_headers["X-Auth-Token"] = token
    req_headers.update(headers or {})
    req = urllib.request.Request(url, data=data, method=method, headers=req_headers)
    try:
        with _opener.open(req, timeout=timeout) as resp:
            status, resp_headers, raw = resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as err:
        status, resp_headers, raw = err.code, err.headers, err.read()
    try:
        payload = json.loads(raw) if raw else None
    except ValueError:
        payload = raw.decode(errors="replace")
    if expect is not None and status not in (expect if isinstance(expect, tuple) else (expect,)):
        raise HTTPError(method, url, status, payload)
    return status, resp_headers, payload


def get(url, token):
    return call("GET", url, token, expect=200)[2]


def _token(identity, scope=None):
    auth = {"identity": identity}
    if scope:
        auth["scope"] = scope
    _, headers, body = call("POST", AUTH_URL + "/auth/tokens", body={"auth": auth}, expect=201)
    return headers["X-Subject-Token"], body["token"]


def password_token(user, password, project=None):
    """Token for a Default-domain user, scoped to `project` (a name) if given. Returns (token, token body)."""
    identity = {"methods": ["password"],
                "password": {"user": {"name": user, "domain": {"id": "default"}, "password": password}}}
    scope = {"project": {"name": project, "domain": {"id": "default"}}} if project else None
    return _token(identity, scope)


def app_cred_token(cred_id, secret):
    return _token({"methods": ["application_credential"],
                   "application_credential": {"id": cred_id, "secret": secret}})


def admin_token():
    return password_token("admin", ADMIN_PASSWORD, "admin")


def endpoint(token_body, service_type):
    """Public URL of a service from a token's catalog, without a trailing slash."""
    for service in token_body.get("catalog", []):
        if service["type"] == service_type:
            for ep in service["endpoints"]:
                if ep["interface"] == "public":
                    return ep["url"].rstrip("/")
    raise KeyError(f"no public {service_type} endpoint in the catalog")


def wait_for(what, check, timeout, interval=1.0):
    """Call check() until it returns something truthy; exceptions count as "not yet"."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except Exception as err:  # noqa: BLE001 - a service that is still starting fails in many ways
            last = err
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what} (last error: {last})")
