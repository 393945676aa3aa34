"""``make run``: the whole system on one machine.

Uses NATS_URL and REDIS_URL when set (and stops within seconds, naming the
variable, when nobody answers there); otherwise starts an embedded
nats-server (JetStream) and Valkey from the pip-installed binaries, with data
under ``var/`` (``ALONGSIDE_DATA_DIR``). Then starts the three services and the web
console (development sign-in on, loopback only) as child processes, prints
where each listens (gRPC and Prometheus metrics, the console's URL) and
writes them to ``var/endpoints.json`` for the CLI, with this stack's id.

A port that is taken is never given up silently: the preferred ports
(``MATCHER_PORT``, ``NATS_PORT``, ...) fall back to free ones with a warning,
and a port set explicitly that is taken stops the start.

Every child runs in a process group of its own, so a Ctrl-C at the terminal
reaches only this process, which then stops them in order: the services
first (each drains), then the mail sink, Valkey and NATS.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from alongside.kit import tracing
from alongside.kit.libraries import catalogue
from alongside.kit.settings import ConfigError
from alongside.kit.testing.servers import NatsServer, ValkeyServer, free_port, provision_functions
from alongside.kit.testing.smtp import SmtpSink

# (name, preferred gRPC port, preferred metrics port)
SERVICES = (("matcher", 50051, 9464), ("scheduler", 50052, 9465), ("notifier", 50053, 9466))
CONSOLE_PORT = 8080
DATA = Path(os.environ.get("ALONGSIDE_DATA_DIR", "var")).resolve()
ENDPOINTS = "endpoints.json"
DEPENDENCY_TIMEOUT_S = 3.0


class StartError(Exception):
    """``make run`` cannot start; the message says why and what to do."""


def say(line: str) -> None:
    print(line, flush=True)


def warn(line: str) -> None:
    print(f"WARNING: {line}", file=sys.stderr, flush=True)


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def choose_port(env: Mapping[str, str], variable: str, preferred: int, what: str) -> int:
    """``variable``'s port if set (it must be free), else ``preferred`` if free,
    else a free one, announced loudly: never a silent move."""
    if env.get(variable):
        try:
            port = int(env[variable])
        except ValueError:
            raise StartError(f"{variable} must be a port number") from None
        if not _free(port):
            raise StartError(f"{variable}={port}: port {port} ({what}) is taken; free it or choose another")
        return port
    if _free(preferred):
        return preferred
    port = free_port()
    choose = f"; set {variable} to choose" if variable else ""
    warn(
        f"port {preferred} ({what}) is taken, perhaps by another `make run`; using {port} instead."
        f" The CLI finds it in {DATA / ENDPOINTS}{choose}."
    )
    return port


def _port(preferred: int, what: str = "a port") -> int:
    """``preferred`` if free, else a free one, announced (``choose_port`` without a variable)."""
    return choose_port({}, "", preferred, what)


def _moved(preferred: int, actual: int, what: str) -> None:
    if actual != preferred:
        warn(f"port {preferred} ({what}) was taken as it started; using {actual} instead")


def _endpoints_owner(path: Path) -> int | None:
    """The pid of a live ``make run`` that wrote ``path``, if any."""
    try:
        pid = int(json.loads(path.read_text())["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    return pid if pid != os.getpid() else None


def write_endpoints(path: Path, endpoints: Mapping[str, Any]) -> None:
    """Atomically, readable only by this user (URLs may hold a password)."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(endpoints, indent=2) + "\n")
    tmp.chmod(0o600)
    tmp.replace(path)


def remove_endpoints(path: Path, stack_id: str) -> None:
    """Remove ``path`` if it still describes this stack."""
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        if json.loads(path.read_text())["stack_id"] == stack_id:
            path.unlink()


def _host_ports(url: str, default_port: int) -> list[tuple[str, int]]:
    out = []
    for part in url.split(","):
        parts = urlsplit(part.strip())
        out.append((parts.hostname or "127.0.0.1", parts.port or default_port))
    return out


def check_dependency(variable: str, url: str, default_port: int, timeout_s: float = DEPENDENCY_TIMEOUT_S) -> None:
    """A configured server must answer within ``timeout_s``: at least one of
    its addresses accepts a connection, or the start stops naming it."""
    if url.startswith("unix:"):
        return
    problems = []
    for host, port in _host_ports(url, default_port):
        try:
            with socket.create_connection((host, port), timeout=timeout_s):
                return
        except OSError as exc:
            problems.append(f"{host}:{port} ({exc.strerror or type(exc).__name__})")
    raise StartError(
        f"{variable} is set, but nobody answers at {', '.join(problems)}:"
        f" start that server, or unset {variable} to use an embedded one"
    )


def _dev_auth(env: dict[str, str]) -> None:
    """Without configured keys, services and the CLI share a development
    HS256 secret kept in var/dev-auth-secret (made once, mode 0600)."""
    if env.get("AUTH_PUBLIC_KEYS") or env.get("AUTH_HS256_SECRET"):
        return
    path = DATA / "dev-auth-secret"
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    env["AUTH_HS256_SECRET"] = path.read_text().strip()
    say(f"development token secret    {path}   (alongside token issue --role ... --sub ...)")


def _mail_sink(env: dict[str, str], endpoints: dict[str, Any]) -> SmtpSink | None:
    """Without a configured SMTP server, email goes to a local sink under var/mail."""
    if "SMTP_HOST" in env:
        return None
    sink = SmtpSink(DATA / "mail", choose_port(env, "SMTP_SINK_PORT", 12525, "local SMTP sink"))
    sink.start()
    env.update(SMTP_HOST="127.0.0.1", SMTP_PORT=str(sink.port))
    endpoints.update(smtp=f"127.0.0.1:{sink.port}", mail_dir=str(DATA / "mail"))
    say(f"local SMTP sink              127.0.0.1:{sink.port}   mail filed in {DATA / 'mail'}")
    return sink


def _embedded(env: dict[str, str], started: list[NatsServer | ValkeyServer]) -> None:
    if "NATS_URL" in env:
        check_dependency("NATS_URL", env["NATS_URL"], 4222)
    else:
        preferred = choose_port(env, "NATS_PORT", 14222, "embedded NATS")
        nats = NatsServer(DATA / "nats", preferred, own_group=True)
        nats.start()
        started.append(nats)
        _moved(preferred, nats.port, "embedded NATS")
        env["NATS_URL"] = nats.url
        say(f"embedded NATS (JetStream)   {nats.url}   data in {nats.root}")
    if "REDIS_URL" in env:
        check_dependency("REDIS_URL", env["REDIS_URL"], 6379)
    else:
        preferred = choose_port(env, "VALKEY_PORT", 16379, "embedded Valkey")
        valkey = ValkeyServer(DATA / "valkey", preferred, own_group=True)
        valkey.start()
        started.append(valkey)
        _moved(preferred, valkey.port, "embedded Valkey")
        env["REDIS_URL"] = valkey.url
        say(f"embedded Valkey (AOF)       {valkey.url}   data in {valkey.root}")
        # As an operator would (alongside valkey provision): the services only check.
        provision_functions(valkey.url)
        env.setdefault("PROVISION_FUNCTIONS", "false")
        say(f"Valkey functions            {', '.join(lib.name for lib in catalogue())}   (loaded as an operator)")


def _wait_listening(
    proc: subprocess.Popen[bytes],
    port: int,
    name: str,
    timeout: float = 60.0,
    stopping: Callable[[], bool] = lambda: False,
) -> None:
    log = DATA / "logs" / f"{name}.log"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stopping():
            raise StartError(f"stopped while {name} was starting")
        if proc.poll() is not None:
            raise StartError(f"{name} exited with code {proc.returncode}; see {log}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise StartError(f"{name} did not start within {timeout:.0f}s; see {log}")


def _stop_services(procs: list[tuple[str, subprocess.Popen[bytes]]]) -> None:
    """SIGTERM to every service at once (each drains), then wait for each."""
    for _, proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for name, proc in procs:
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        say(f"stopped {name} (exit code {proc.returncode})")


def _console(
    env: dict[str, str], logs: Path, addresses: dict[str, str], stopping: Callable[[], bool]
) -> tuple[str, subprocess.Popen[bytes]]:
    """The web console, on loopback; development sign-in is on when the development secret is in use."""
    port = choose_port(env, "CONSOLE_PORT", CONSOLE_PORT, "console")
    child_env = {
        **env,
        "CONSOLE_ADDR": f"127.0.0.1:{port}",
        **{f"{name.upper()}_ADDR": address for name, address in addresses.items()},
    }
    if env.get("AUTH_HS256_SECRET") and "DEV_SIGN_IN" not in env:
        child_env["DEV_SIGN_IN"] = "true"
    with (logs / "console.log").open("ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "alongside.console"],
            env=child_env,
            stdout=log,
            stderr=log,
            process_group=0,  # as the services: stopped by us, in order
        )
    _wait_listening(proc, port, "console", stopping=stopping)
    sign_in = "development sign-in" if child_env.get("DEV_SIGN_IN") == "true" else "OpenID Connect sign-in"
    url = f"http://127.0.0.1:{port}/"
    say(f"console    {url}   ({sign_in}; logs: {logs / 'console.log'})")
    return url, proc


def tracing_line(env: dict[str, str]) -> str:
    """Where the services' spans go (``OTEL_*``, passed on to every service; docs/tracing.md)."""
    try:
        exporter = tracing.wanted(env)
    except ConfigError as exc:
        raise StartError(f"tracing: {exc}") from None
    if exporter is None:
        return "tracing                     off   (OTEL_TRACES_EXPORTER=console, or an OTLP endpoint, turns it on)"
    if exporter == "console":
        return "tracing                     on: spans printed to each service's log"
    endpoint = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    return f"tracing                     on: OTLP/gRPC to {endpoint or 'http://localhost:4317'}"


def main() -> int:
    env = dict(os.environ)
    servers: list[NatsServer | ValkeyServer] = []
    logs = DATA / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    endpoints_path = DATA / ENDPOINTS
    stack_id = secrets.token_hex(8)
    procs: list[tuple[str, subprocess.Popen[bytes]]] = []
    stop = False

    def request_stop(*_: object) -> None:
        nonlocal stop
        stop = True

    # The children are in process groups of their own, so nothing reaches them but us:
    # a closed terminal (SIGHUP) must stop them in order too, not orphan them.
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, request_stop)
    sink: SmtpSink | None = None
    endpoints: dict[str, Any] = {
        "stack_id": stack_id,
        "data_dir": str(DATA),
        "pid": os.getpid(),
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "console": None,
    }
    try:
        owner = _endpoints_owner(endpoints_path)
        if owner is not None:
            raise StartError(
                f"another `make run` (pid {owner}) already uses {DATA}; stop it first,"
                " or set ALONGSIDE_DATA_DIR to another folder"
            )
        tracing_line(env)  # a bad OTEL_* stops the start before anything runs
        say(f"data folder                 {DATA}   (stack {stack_id})")
        _embedded(env, servers)
        endpoints.update(nats_url=env["NATS_URL"], redis_url=env["REDIS_URL"])
        _dev_auth(env)
        sink = _mail_sink(env, endpoints)
        for name, preferred, preferred_metrics in SERVICES:
            port = choose_port(env, f"{name.upper()}_PORT", preferred, f"{name} gRPC")
            metrics_port = choose_port(env, f"{name.upper()}_METRICS_PORT", preferred_metrics, f"{name} metrics")
            child_env = {
                **env,
                "LISTEN_ADDR": f"127.0.0.1:{port}",
                "METRICS_ADDR": f"127.0.0.1:{metrics_port}",
                "SERVICE_NAME": name,
                "STACK_ID": stack_id,
            }
            with (logs / f"{name}.log").open("ab") as log:
                proc = subprocess.Popen(
                    [sys.executable, "-m", f"alongside.{name}"],
                    env=child_env,
                    stdout=log,
                    stderr=log,
                    process_group=0,  # a Ctrl-C at the terminal reaches only us; we stop it in order
                )
            procs.append((name, proc))
            _wait_listening(proc, port, name, stopping=lambda: stop)
            endpoints[name] = f"127.0.0.1:{port}"
            endpoints[f"{name}_metrics"] = f"http://127.0.0.1:{metrics_port}/metrics"
            say(
                f"{name:<10} gRPC on 127.0.0.1:{port}   metrics on http://127.0.0.1:{metrics_port}/metrics"
                f"   (logs: {logs / (name + '.log')})"
            )
        console_url, console = _console(env, logs, {name: endpoints[name] for name, *_ in SERVICES}, lambda: stop)
        procs.insert(0, ("console", console))  # stopped with the services, before them
        endpoints["console"] = console_url
        write_endpoints(endpoints_path, endpoints)
        say(tracing_line(env))
        say(f"endpoints for the CLI       {endpoints_path}")
        say("Alongside is up. Ctrl-C stops everything.")
        while not stop and all(p.poll() is None for _, p in procs):
            time.sleep(0.2)
        if not stop:
            print("a service exited unexpectedly; stopping the rest", file=sys.stderr, flush=True)
            return 1
        return 0
    except StartError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        say("stopping: the services first, then the servers")
        remove_endpoints(endpoints_path, stack_id)
        # Services first, each drained while NATS and Valkey are still up.
        _stop_services(procs)
        if sink is not None:
            sink.stop()
            say("stopped the local SMTP sink")
        for server in reversed(servers):
            server.stop()
            say(f"stopped embedded {'NATS' if isinstance(server, NatsServer) else 'Valkey'}")
        say("stopped.")


if __name__ == "__main__":
    raise SystemExit(main())
