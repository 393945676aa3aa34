"""``make run``: the whole system on one machine.

Uses NATS_URL and REDIS_URL when set; otherwise starts an embedded nats-server
(JetStream) and Valkey from the pip-installed binaries, with data under
``var/``. Then starts the three services and the web console (development
sign-in on, loopback only) as child processes, prints where each listens
(gRPC and Prometheus metrics, the console's URL), and on Ctrl-C (or SIGTERM)
stops them all, the console and services first.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from alongside.kit.libraries import catalogue
from alongside.kit.testing.servers import NatsServer, ValkeyServer, free_port, provision_functions
from alongside.kit.testing.smtp import SmtpSink

# (name, preferred gRPC port, preferred metrics port)
SERVICES = (("matcher", 50051, 9464), ("scheduler", 50052, 9465), ("notifier", 50053, 9466))
CONSOLE_PORT = 8080
DATA = Path(os.environ.get("ALONGSIDE_DATA_DIR", "var"))


def _port(preferred: int) -> int:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", preferred))
        except OSError:
            return free_port()
    return preferred


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
    print(f"development token secret    {path}   (alongside token issue --role ... --sub ...)")


def _mail_sink(env: dict[str, str]) -> SmtpSink | None:
    """Without a configured SMTP server, email goes to a local sink under var/mail."""
    if "SMTP_HOST" in env:
        return None
    sink = SmtpSink(DATA / "mail", _port(12525))
    sink.start()
    env.update(SMTP_HOST="127.0.0.1", SMTP_PORT=str(sink.port))
    print(f"local SMTP sink              127.0.0.1:{sink.port}   mail filed in {DATA / 'mail'}")
    return sink


def _embedded(env: dict[str, str], started: list[NatsServer | ValkeyServer]) -> None:
    if "NATS_URL" not in env:
        nats = NatsServer(DATA / "nats", _port(14222))
        nats.start()
        started.append(nats)
        env["NATS_URL"] = nats.url
        print(f"embedded NATS (JetStream)   {nats.url}   data in {nats.root}")
    if "REDIS_URL" not in env:
        valkey = ValkeyServer(DATA / "valkey", _port(16379))
        valkey.start()
        started.append(valkey)
        env["REDIS_URL"] = valkey.url
        print(f"embedded Valkey (AOF)       {valkey.url}   data in {valkey.root}")
        # As an operator would (alongside valkey provision): the services only check.
        provision_functions(valkey.url)
        env.setdefault("PROVISION_FUNCTIONS", "false")
        print(f"Valkey functions            {', '.join(lib.name for lib in catalogue())}   (loaded as an operator)")


def _wait_listening(proc: subprocess.Popen[bytes], port: int, name: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with code {proc.returncode}; see var/logs/{name}.log")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"{name} did not start within {timeout:.0f}s; see var/logs/{name}.log")


def _console(env: dict[str, str], logs: Path, addresses: dict[str, str]) -> subprocess.Popen[bytes]:
    """The web console, on loopback; development sign-in is on when the development secret is in use."""
    port = int(env.get("CONSOLE_PORT", _port(CONSOLE_PORT)))
    child_env = {
        **env,
        "CONSOLE_ADDR": f"127.0.0.1:{port}",
        **{f"{name.upper()}_ADDR": address for name, address in addresses.items()},
    }
    if env.get("AUTH_HS256_SECRET") and "DEV_SIGN_IN" not in env:
        child_env["DEV_SIGN_IN"] = "true"
    with (logs / "console.log").open("ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "alongside.console"], env=child_env, stdout=log, stderr=log)
    _wait_listening(proc, port, "console")
    sign_in = "development sign-in" if child_env.get("DEV_SIGN_IN") == "true" else "OpenID Connect sign-in"
    print(f"console    http://127.0.0.1:{port}/   ({sign_in}; logs: {logs / 'console.log'})")
    return proc


def main() -> int:
    env = dict(os.environ)
    servers: list[NatsServer | ValkeyServer] = []
    logs = DATA / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    procs: list[subprocess.Popen[bytes]] = []
    stop = False

    def request_stop(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    sink: SmtpSink | None = None
    addresses: dict[str, str] = {}
    try:
        _embedded(env, servers)
        _dev_auth(env)
        sink = _mail_sink(env)
        for name, preferred, preferred_metrics in SERVICES:
            port = int(env.get(f"{name.upper()}_PORT", _port(preferred)))
            metrics_port = int(env.get(f"{name.upper()}_METRICS_PORT", _port(preferred_metrics)))
            child_env = {
                **env,
                "LISTEN_ADDR": f"127.0.0.1:{port}",
                "METRICS_ADDR": f"127.0.0.1:{metrics_port}",
                "SERVICE_NAME": name,
            }
            with (logs / f"{name}.log").open("ab") as log:
                proc = subprocess.Popen(
                    [sys.executable, "-m", f"alongside.{name}"], env=child_env, stdout=log, stderr=log
                )
            procs.append(proc)
            _wait_listening(proc, port, name)
            addresses[name] = f"127.0.0.1:{port}"
            print(
                f"{name:<10} gRPC on 127.0.0.1:{port}   metrics on http://127.0.0.1:{metrics_port}/metrics"
                f"   (logs: {logs / (name + '.log')})"
            )
        procs.append(_console(env, logs, addresses))
        print("Alongside is up. Ctrl-C stops everything.", flush=True)
        while not stop and all(p.poll() is None for p in procs):
            time.sleep(0.2)
        if not stop:
            print("a service exited unexpectedly; stopping the rest", file=sys.stderr)
            return 1
        return 0
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(15)
            if proc.poll() is None:
                proc.kill()
        if sink is not None:
            sink.stop()
        for server in reversed(servers):
            server.stop()
        print("stopped.")


if __name__ == "__main__":
    raise SystemExit(main())
