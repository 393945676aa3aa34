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
from alongside.cli.state import Session, session
from alongside.kit.broker_tls import NATS_PREFIX, REDIS_PREFIX, BrokerTls, TlsConfigError, nats_options
from alongside.kit.durable import is_sentinel_url, parse_sentinel_url, tls_options

CHECK_TIMEOUT_S = 3.0


@dataclass(frozen=True)
class Check:
    component: str
    address: str
    up: bool
    state: str
    detail: str = ""


def check_service(service: Service, timeout_s: float, stack_id: str = "") -> Check:
    """Its health; with ``stack_id``, also whether it belongs to that stack
    (one that does not counts as down: the CLI will not send it the token)."""
    started = time.perf_counter()
    try:
        state = service.health(timeout_s)
        ours = service.is_stack(stack_id, timeout_s) if stack_id else True
    except CliError as exc:
        return Check(service.name, service.address, False, "down", exc.message)
    ms = (time.perf_counter() - started) * 1000
    if not ours:
        detail = f"another stack answers here, not stack {stack_id}: is that `make run` still running?"
        return Check(service.name, service.address, False, "other stack", detail)
    detail = f"answered in {ms:.0f} ms" if state == "SERVING" else "reports it cannot serve: a dependency is down"
    if stack_id and state == "SERVING":
        detail += " (this stack)"
    return Check(service.name, service.address, state == "SERVING", state.lower().replace("_", " "), detail)


def _not_ours(check: Check, data_dir: object) -> Check:
    detail = f"something answers here, but the stack in {data_dir} is not running: not this stack"
    return Check(check.component, check.address, False, "other stack", detail)


def stack_line(s: Session) -> tuple[dict[str, str], str]:
    """Whose stack this is: its data folder and id, or where the CLI looked."""
    found = s.config.found
    stack = found.stack
    if stack is None:
        return {"data_dir": "", "stack_id": "", "config": ""}, (
            f"No `make run` data folder found (looked in: {'; '.join(found.looked)})."
        )
    info = {"data_dir": str(stack.data_dir), "stack_id": stack.stack_id, "config": found.source}
    if not stack.running:
        return info, f"Stack in {stack.data_dir}: not running (no endpoints.json); found through {found.source}."
    return info, f"Stack in {stack.data_dir} (stack {stack.stack_id}), found through {found.source}."


def check_nats(url: str, timeout_s: float, tls: BrokerTls | None = None) -> Check:
    """Read the server's INFO line (after a TLS handshake for ``tls://``): enough to
    know it is there, its version and JetStream."""
    first = url.split(",")[0].strip()
    parts = urlsplit(first)
    host, port = parts.hostname or "127.0.0.1", parts.port or 4222
    address = f"{host}:{port}"
    try:
        context = nats_options(url, tls or BrokerTls(NATS_PREFIX)).get("tls")
        with socket.create_connection((host, port), timeout=timeout_s) as raw:
            sock = context.wrap_socket(raw, server_hostname=host) if context else raw
            line = sock.makefile("rb").readline(65536).decode("utf-8", "replace")
    except TlsConfigError as exc:
        return Check("nats", address, False, "down", str(exc))
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


def check_redis(url: str, timeout_s: float, tls: BrokerTls | None = None) -> Check:
    try:
        secure = tls_options(url, tls or BrokerTls(REDIS_PREFIX))
    except TlsConfigError as exc:
        return Check("redis", url.partition("@")[2] or "?", False, "down", str(exc))
    if is_sentinel_url(url):  # the Sentinels say where the primary is
        found = parse_sentinel_url(url)
        address = ",".join(f"{host}:{port}" for host, port in found.sentinels)
        timeouts = {"socket_timeout": timeout_s, "socket_connect_timeout": timeout_s}
        sentinels = Sentinel(list(found.sentinels), sentinel_kwargs={**timeouts, **secure})
        options = {"username": found.username, "password": found.password, "db": found.db, **secure}
        client = sentinels.master_for(found.master, socket_timeout=timeout_s, **options)
    else:
        parts = urlsplit(url)
        address = f"{parts.hostname or '127.0.0.1'}:{parts.port or 6379}"
        client = redis.Redis.from_url(url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s, **secure)
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
    checks = [check_service(service, timeout_s, service.stack_id) for service in s.clients.services.values()]
    stack_folder = s.config.found.stack
    if stack_folder is not None and not stack_folder.running:
        # Our stack is not running: whoever answers at the default ports is someone else's.
        defaults = {name for name, where in s.config.address_sources.items() if where == "default"}
        checks = [_not_ours(c, stack_folder.data_dir) if c.up and c.component in defaults else c for c in checks]
    checks += [
        check_nats(s.config.nats_url, timeout_s, s.config.nats_tls),
        check_redis(s.config.redis_url, timeout_s, s.config.redis_tls),
    ]
    stack, line = stack_line(s)
    if s.out.json:
        s.out.emit({"ok": all(c.up for c in checks), "stack": stack, "components": [asdict(c) for c in checks]})
    else:
        s.out.text(line)
        rows = [(c.component, c.address, ("✔ " if c.up else "✘ ") + c.state, c.detail) for c in checks]
        s.out.table("Alongside status", ("component", "address", "state", "detail"), rows)
    if not all(c.up for c in checks):
        s.out.hint("Start everything with `make run`; NATS_URL and REDIS_URL say where `status` looks for them.")
        raise typer.Exit(int(ExitCode.REFUSED))
