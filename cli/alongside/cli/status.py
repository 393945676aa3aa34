"""``alongside status``: is every service serving, and are NATS and Redis up?"""

from __future__ import annotations

import json
import socket
import time
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

import redis
import typer
from redis.sentinel import Sentinel

from alongside.cli.clients import Service
from alongside.cli.errors import CliError, ExitCode, handled
from alongside.cli.state import session
from alongside.kit.durable import SENTINEL_SCHEME, parse_sentinel_url

CHECK_TIMEOUT_S = 3.0


@dataclass(frozen=True)
class Check:
    component: str
    address: str
    up: bool
    state: str
    detail: str = ""


def check_service(service: Service, timeout_s: float) -> Check:
    started = time.perf_counter()
    try:
        state = service.health(timeout_s)
    except CliError as exc:
        return Check(service.name, service.address, False, "down", exc.message)
    ms = (time.perf_counter() - started) * 1000
    detail = f"answered in {ms:.0f} ms" if state == "SERVING" else "reports it cannot serve: a dependency is down"
    return Check(service.name, service.address, state == "SERVING", state.lower().replace("_", " "), detail)


def check_nats(url: str, timeout_s: float) -> Check:
    """Read the server's INFO line: enough to know it is there, its version and JetStream."""
    first = url.split(",")[0].strip()
    parts = urlsplit(first)
    host, port = parts.hostname or "127.0.0.1", parts.port or 4222
    address = f"{host}:{port}"
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as sock:
            line = sock.makefile("rb").readline(65536).decode("utf-8", "replace")
    except OSError as exc:
        return Check("nats", address, False, "down", f"cannot connect ({type(exc).__name__}) — is `make run` running?")
    if not line.startswith("INFO "):
        return Check("nats", address, False, "down", "something answers there, but not NATS")
    try:
        info = json.loads(line[5:])
    except ValueError:
        info = {}
    jetstream = "JetStream on" if info.get("jetstream") else "JetStream OFF (the services need it)"
    return Check(
        "nats", address, bool(info.get("jetstream")), "up", f"nats-server {info.get('version', '?')}, {jetstream}"
    )


def check_redis(url: str, timeout_s: float) -> Check:
    if url.startswith(SENTINEL_SCHEME + ":"):  # the Sentinels say where the primary is
        found = parse_sentinel_url(url)
        address = ",".join(f"{host}:{port}" for host, port in found.sentinels)
        sentinels = Sentinel(list(found.sentinels), socket_timeout=timeout_s, socket_connect_timeout=timeout_s)
        options = {"username": found.username, "password": found.password, "db": found.db}
        client = sentinels.master_for(found.master, socket_timeout=timeout_s, **options)
    else:
        parts = urlsplit(url)
        address = f"{parts.hostname or '127.0.0.1'}:{parts.port or 6379}"
        client = redis.Redis.from_url(url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s)
    try:
        info = client.info("server")
    except redis.exceptions.NoPermissionError:  # a service's login: it may PING, not read INFO
        try:
            client.ping()
        except (redis.RedisError, OSError) as exc:
            return Check("redis", address, False, "down", f"cannot connect ({type(exc).__name__})")
        finally:
            client.close()
        return Check("redis", address, True, "up", "answers PING (this login may not read INFO)")
    except (redis.RedisError, OSError) as exc:
        return Check("redis", address, False, "down", f"cannot connect ({type(exc).__name__}) — is `make run` running?")
    finally:
        client.close()
    if "valkey_version" in info:
        return Check("redis", address, True, "up", f"valkey {info['valkey_version']}")
    return Check("redis", address, True, "up", f"redis {info.get('redis_version', '?')}")


@handled
def status(ctx: typer.Context) -> None:
    """Health of every service and of NATS and Redis; exits 1 when anything is down."""
    s = session(ctx)
    timeout_s = min(s.config.timeout_s, CHECK_TIMEOUT_S)
    checks = [check_service(service, timeout_s) for service in s.clients.services.values()]
    checks += [check_nats(s.config.nats_url, timeout_s), check_redis(s.config.redis_url, timeout_s)]
    if s.out.json:
        s.out.emit({"ok": all(c.up for c in checks), "components": [asdict(c) for c in checks]})
    else:
        rows = [(c.component, c.address, ("✔ " if c.up else "✘ ") + c.state, c.detail) for c in checks]
        s.out.table("Alongside status", ("component", "address", "state", "detail"), rows)
    if not all(c.up for c in checks):
        s.out.hint("Start everything with `make run`; NATS_URL and REDIS_URL say where `status` looks for them.")
        raise typer.Exit(int(ExitCode.REFUSED))
