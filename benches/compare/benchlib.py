"""Shared pieces of the comparison benchmarks (`run`, `million`): processes
with bounded lifetimes, HTTP on loopback, wrk, the scratch databases and the
ithbat server under test. Standard library only: the peers' dependencies
live in target/bench-compare, never in the product."""

import atexit
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SCRATCH = os.path.join(ROOT, "target", "bench-compare")
PG_ADMIN = os.environ.get("ITHBAT_BENCH_PG", "postgres://root@127.0.0.1:5432")
PASSWORD = "Bench!Passw0rd"
# No process this benchmark starts outlives it by more than this.
LIFETIME_SECONDS = int(os.environ.get("BENCH_LIFETIME_SECONDS", "3600"))


def log(*parts):
    print("[bench]", *parts, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- processes

_children = []


def _stop_all(*_):
    for p in reversed(_children):
        stop(p)


atexit.register(_stop_all)
for _sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(_sig, lambda s, f: (_stop_all(), sys.exit(128 + s)))


def spawn(argv, *, env=None, cwd=None, log_name):
    """Starts a child in its own process group, under `timeout` so that it
    dies after LIFETIME_SECONDS even if this script is killed with -9.
    Its output goes to target/bench-compare/logs/<log_name>.log."""
    os.makedirs(os.path.join(SCRATCH, "logs"), exist_ok=True)
    out = open(os.path.join(SCRATCH, "logs", log_name + ".log"), "w")
    full_env = dict(os.environ)
    full_env.update(env or {})
    p = subprocess.Popen(
        ["timeout", "--signal=TERM", "--kill-after=5", str(LIFETIME_SECONDS), *argv],
        env=full_env,
        cwd=cwd,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    p.log_path = out.name
    _children.append(p)
    return p


def stop(p):
    if p.poll() is None:
        try:
            os.killpg(p.pid, signal.SIGTERM)
            p.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    if p in _children:
        _children.remove(p)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, proc, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{url}: the process exited; see {proc.log_path}")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {timeout} s; see {proc.log_path}")


# --------------------------------------------------------------------- HTTP


def basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def http(method, url, *, json_body=None, form=None, token=None, headers=None, expect=None):
    """One request; returns (status, parsed JSON or text)."""
    h = dict(headers or {})
    data = None
    if json_body is not None:
        data = json.dumps(json_body).encode()
        h.setdefault("Content-Type", "application/json")
    elif form is not None:
        data = urllib.parse.urlencode(form).encode()
        h.setdefault("Content-Type", "application/x-www-form-urlencoded")
    if token:
        h["Authorization"] = "Bearer " + token
    req = urllib.request.Request(url, data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=600) as r:
            status, raw = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = raw.decode(errors="replace")
    if expect is not None and status != expect:
        raise SystemExit(f"{method} {url}: expected {expect}, got {status}: {str(body)[:500]}")
    return status, body


class Keepalive:
    """Sequential requests over one kept-alive connection, for single-request
    latencies without connection set-up in the figure."""

    def __init__(self, base):
        import http.client

        u = urllib.parse.urlparse(base)
        self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=600)

    def get(self, path, headers):
        t = time.perf_counter()
        self.conn.request("GET", path, headers=headers)
        r = self.conn.getresponse()
        raw = r.read()
        elapsed = time.perf_counter() - t
        return r.status, json.loads(raw) if raw else None, elapsed


# ---------------------------------------------------------------------- wrk

WRK_LUA = os.path.join(HERE, "wrk.lua")


def ensure_tool(binary, apt_package):
    if shutil.which(binary):
        return
    log(f"installing {apt_package} (apt)")
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", apt_package], check=True)


def wrk(url, *, seconds, threads=2, connections=16, method="GET", bodies=None,
        content_type=None, authorization=None, headers=None):
    """Runs wrk with the Lua script that prints exact percentiles; returns
    {rps, p50, p99 (ms), requests, non2xx, errors}."""
    env = dict(os.environ, WRK_METHOD=method)
    if bodies:
        env["WRK_BODIES"] = "\n".join(bodies)
    if content_type:
        env["WRK_CONTENT_TYPE"] = content_type
    argv = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s",
            "--latency", "--timeout", "10s", "-s", WRK_LUA]
    if authorization:
        argv += ["-H", "Authorization: " + authorization]
    for name, value in (headers or {}).items():
        argv += ["-H", f"{name}: {value}"]
    out = subprocess.run(argv + [url], env=env, capture_output=True, text=True, check=True).stdout
    line = next(l for l in out.splitlines() if l.startswith("WRK_JSON "))
    s = json.loads(line[len("WRK_JSON "):])
    return {
        "rps": s["requests"] / (s["duration_us"] / 1e6),
        "p50": s["p50_us"] / 1000,
        "p99": s["p99_us"] / 1000,
        "requests": s["requests"],
        "non2xx": s["non2xx"],
        "errors": s["connect"] + s["read"] + s["write"] + s["timeout"],
    }


# ---------------------------------------------------------------- databases


def psql(sql, db="postgres", *, capture=True):
    r = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", f"{PG_ADMIN}/{db}", "-c", sql],
                       capture_output=capture, text=True)
    if r.returncode != 0:
        raise SystemExit(f"psql failed: {r.stderr}\n{sql[:2000]}")
    return r.stdout.strip() if capture else ""


def pg_recreate(name):
    psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    psql(f'CREATE DATABASE "{name}"')
    return f"{PG_ADMIN}/{name}"


def pg_drop(name):
    psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pg_exists(name):
    return psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'") == "1"


def sqlite_remove(path):
    for suffix in ("", "-wal", "-shm"):
        try:
            os.remove(path + suffix)
        except FileNotFoundError:
            pass


# ------------------------------------------------------------------- ithbat

BINARY = os.path.join(ROOT, "target", "release", "ithbat")


def ensure_release_build():
    if os.environ.get("BENCH_NO_BUILD"):
        return
    log("cargo build --release")
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)


class Ithbat:
    """target/release/ithbat on a loopback port, rate limits lifted (this
    measures the server, not its limits), admin bootstrapped."""

    ADMIN = "bench@ithbat.test"

    def __init__(self, database_url, name, extra_env=None, port=None):
        self.database_url = database_url
        self.name = name
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {
            "DATABASE_URL": database_url,
            "ITHBAT_LISTEN": f"127.0.0.1:{self.port}",
            "ITHBAT_ADMIN_EMAIL": self.ADMIN,
            "ITHBAT_ADMIN_PASSWORD": PASSWORD,
            "ITHBAT_RATE_LIMIT_ANONYMOUS": "4000000000",
            "ITHBAT_AUTH_RATE_LIMIT_PER_IP": "4000000000",
            "ITHBAT_AUTH_RATE_LIMIT_PER_ACCOUNT": "4000000000",
        }
        env.update(extra_env or {})
        self.proc = spawn([BINARY], env=env, cwd=SCRATCH, log_name=f"ithbat-{name}")
        wait_http(self.base + "/healthz", self.proc, timeout=300)

    @property
    def pid(self):
        """The server's own pid (the child of `timeout`)."""
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True).stdout
        return int(out.split()[0])

    def stop(self):
        stop(self.proc)

    def login(self, email, password=PASSWORD, tenant=None):
        headers = {"X-Tenant-ID": tenant} if tenant else {}
        _, body = http("POST", self.base + "/api/v1/auth/login", headers=headers,
                       json_body={"email": email, "password": password}, expect=200)
        return body["data"]["accessToken"]

    def bench_tenant(self, slug, owner_email):
        """A tenant with its owner, its request limit lifted; returns
        (tenant id, owner token). Reuses the tenant if it exists."""
        admin = self.login(self.ADMIN)
        status, body = http("POST", self.base + "/api/v1/tenants", token=admin, json_body={
            "name": f"Bench {slug}", "slug": slug, "plan": "enterprise",
            "adminEmail": owner_email, "adminPassword": PASSWORD})
        if status == 201 or status == 200:
            tenant = body["data"]["id"]
        else:
            _, body = http("GET", self.base + "/api/v1/tenants?limit=100", token=admin, expect=200)
            tenant = next(t["id"] for t in body["data"] if t["slug"] == slug)
        http("PUT", f"{self.base}/api/v1/tenants/{tenant}", token=admin,
             json_body={"rateLimitPerMinute": 1_000_000}, expect=200)
        return tenant, self.login(owner_email, tenant=tenant)

    def bulk_users(self, token, users):
        for i in range(0, len(users), 1000):
            _, body = http("POST", self.base + "/api/v1/users/bulk", token=token,
                           json_body={"users": users[i:i + 1000]}, expect=200)
            if body["data"]["successful"] != len(users[i:i + 1000]):
                raise SystemExit(f"bulk import refused rows: {str(body['data']['errors'])[:500]}")


# ------------------------------------------------- the side-by-side fixture

SCIM_USERS = 2000
LOGIN_ACCOUNTS = 64
CLIENT_SECRET = "Bench!s3cret-0123456789abcdef"


def user_name(n):
    return f"user{n:07d}@bench.example"


def scim_user(n):
    """User n as a SCIM resource: the same users on every SCIM server."""
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name(n),
        "name": {"givenName": ["Alice", "Bob", "Carol", "Dana"][n % 4],
                 "familyName": f"Family{n % 50000:05d}"},
        "emails": [{"value": user_name(n), "primary": True}],
        "active": True,
    }


def scim_filter_path(prefix, n=SCIM_USERS // 2):
    query = urllib.parse.urlencode({"filter": f'userName eq "{user_name(n)}"'})
    return f"{prefix}/Users?{query}"


def jwt_header(token):
    head = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))


def prepare_ithbat(server):
    """One tenant on a running ithbat with everything the loads need:
    2,000 users (SCIM), 64 accounts with passwords (sign-in, one per
    connection or more, so that no account's lockout queue is what is
    measured), a member's token (/users/me), a client_credentials client
    with a secret (argon2id, as every client secret is stored), one of its
    tokens (introspection) and a SCIM token. Returns the wrk loads by name."""
    base = server.base
    tenant, owner = server.bench_tenant("bench", "owner@bench.example")
    server.bulk_users(owner, [
        {"email": user_name(n), "firstName": scim_user(n)["name"]["givenName"],
         "familyName": scim_user(n)["name"]["familyName"], "skipEmailVerification": True}
        for n in range(SCIM_USERS)])
    logins = [f"login{i:02d}@bench.example" for i in range(LOGIN_ACCOUNTS)]
    server.bulk_users(owner, [
        {"email": e, "firstName": "Login", "familyName": "Bench", "password": PASSWORD,
         "skipEmailVerification": True} for e in logins])
    member = server.login(logins[0], tenant=tenant)

    _, client = http("POST", base + "/core/iam/v1/clients", token=owner, json_body={
        "name": "Bench machine", "description": "load",
        "allowedGrantTypes": ["client_credentials"], "redirectUris": [],
        "allowedScopes": ["services.iam"]}, expect=200)
    client_id = client["clientId"]
    http("POST", f"{base}/core/iam/v1/clients/{client_id}/secrets", token=owner,
         json_body={"value": CLIENT_SECRET, "description": "bench"}, expect=200)
    client_auth = basic(client_id, CLIENT_SECRET)
    server.cc_auth = client_auth
    cc_body = "grant_type=client_credentials&scope=services.iam"
    _, issued = http("POST", base + "/oauth/token", headers={"Authorization": client_auth},
                     form={"grant_type": "client_credentials", "scope": "services.iam"},
                     expect=200)
    access = issued["access_token"]
    if jwt_header(access).get("alg") != "RS256":
        raise SystemExit(f"ithbat issued {jwt_header(access)}, not an RS256 JWT")
    _, introspected = http("POST", base + "/oauth/introspect", form={"token": access},
                           headers={"Authorization": client_auth}, expect=200)
    assert introspected["active"] is True, introspected

    _, scim = http("POST", base + "/api/v1/scim/tokens", token=owner,
                   json_body={"name": "bench"}, expect=201)
    scim_token = scim["data"]["token"]
    _, found = http("GET", base + scim_filter_path("/scim/v2"), token=scim_token, expect=200)
    assert found["totalResults"] == 1, found
    http("GET", base + "/api/v1/users/me", token=member, expect=200)

    form = "application/x-www-form-urlencoded"
    return {
        "cc": dict(url=base + "/oauth/token", method="POST", bodies=[cc_body],
                   content_type=form, authorization=client_auth),
        "introspect": dict(url=base + "/oauth/introspect", method="POST",
                           bodies=["token=" + access], content_type=form,
                           authorization=client_auth),
        "me": dict(url=base + "/api/v1/users/me", authorization="Bearer " + member),
        "login": dict(url=base + "/api/v1/auth/login", method="POST",
                      bodies=[json.dumps({"email": e, "password": PASSWORD}) for e in logins],
                      content_type="application/json", headers={"X-Tenant-ID": tenant}),
        "scim": dict(url=base + scim_filter_path("/scim/v2"),
                     authorization="Bearer " + scim_token),
    }
