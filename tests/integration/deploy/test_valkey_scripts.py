"""deploy/valkey/start-valkey.sh and start-sentinel.sh, which the compose file
and the Kubernetes StatefulSets run, started here with the shipped
valkey.conf, users.acl and sentinel.conf: the users log in with the passwords
from the secret files, the replica follows the primary, and the Sentinels
name the primary."""

from __future__ import annotations

import os
import signal
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from redis.sentinel import Sentinel

from alongside.kit.testing.servers import free_port, valkey_binary
from alongside.kit.testing.wait import eventually

DEPLOY = Path(__file__).resolve().parents[3] / "deploy" / "valkey"
USERS = ("admin", "matcher", "scheduler", "notifier", "peer")


class Started:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.procs: list[subprocess.Popen[bytes]] = []
        self.secrets = tmp / "secrets"
        self.secrets.mkdir()
        self.passwords = {user: uuid.uuid4().hex for user in USERS}
        for user, password in self.passwords.items():
            (self.secrets / f"valkey-{user}-password").write_text(password + "\n")

    def start(self, script: str, name: str, port: int, **env: str) -> None:
        folder = self.tmp / name
        (folder / "data").mkdir(parents=True)
        log = (folder / "log").open("wb")
        path = f"{Path(valkey_binary()).parent}:{os.environ['PATH']}"
        full = {
            "PATH": path,
            "CONF_DIR": str(DEPLOY),
            "RUN_DIR": str(folder / "run"),
            "DATA_DIR": str(folder / "data"),
            "SECRETS_DIR": str(self.secrets),
            "PORT": str(port),
            "BIND": "127.0.0.1",
            "INITIAL_PRIMARY": "127.0.0.1",
            **env,
        }
        command = ["/bin/sh", str(DEPLOY / script)]
        self.procs.append(subprocess.Popen(command, env=full, stdout=log, stderr=log, start_new_session=True))

    def close(self) -> None:
        for proc in self.procs:
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture
def started(tmp_path: Path) -> Iterator[Started]:
    s = Started(tmp_path)
    yield s
    s.close()


def _login(port: int, user: str, password: str, db: int = 0) -> redis.Redis:
    return redis.Redis(host="127.0.0.1", port=port, username=user, password=password, db=db, socket_timeout=2)


def _refused_login(port: int, user: str, password: str) -> redis.Redis:
    """A login that must be refused: asked once (redis-py retries a refused
    AUTH, as a connection error, three times with backoff: 4 s each)."""
    return redis.Redis(
        host="127.0.0.1", port=port, username=user, password=password, socket_timeout=2, retry=Retry(NoBackoff(), 0)
    )


async def test_the_start_scripts_run_the_shipped_files(started: Started) -> None:
    primary, replica = free_port(), free_port()
    pw = started.passwords
    started.start("start-valkey.sh", "valkey-1", primary, ANNOUNCE_HOST="127.0.0.1", PRIMARY_PORT=str(primary))
    on_primary = _login(primary, "admin", pw["admin"])

    async def answering() -> bool:
        try:
            return bool(on_primary.ping())
        except redis.RedisError:
            return False

    await eventually(answering, timeout=30, interval=0.05, what="the primary answers its admin")
    # The replica gets its copy at once, not after the shipped 5 s wait for more replicas (as the HA harness does).
    on_primary.config_set("repl-diskless-sync-delay", 0)
    started.start("start-valkey.sh", "valkey-2", replica, ANNOUNCE_HOST="localhost", PRIMARY_PORT=str(primary))
    sentinels = [free_port() for _ in range(3)]
    for i, port in enumerate(sentinels):
        started.start("start-sentinel.sh", f"sentinel-{i}", port, ANNOUNCE_HOST="127.0.0.1", PRIMARY_PORT=str(primary))
    on_replica = _login(replica, "admin", pw["admin"])

    async def replicating() -> bool:
        try:
            return on_replica.info("replication")["master_link_status"] == "up"
        except redis.RedisError:
            return False

    await eventually(replicating, timeout=30, interval=0.2, what="the replica follows the primary")
    matcher = _login(primary, "matcher", pw["matcher"], db=1)
    matcher.set("alongside:matcher:probe", "1")
    assert matcher.wait(1, 5000) == 1
    assert _login(replica, "matcher", pw["matcher"], db=1).get("alongside:matcher:probe") == b"1"
    with pytest.raises(redis.exceptions.NoPermissionError):
        matcher.set("alongside:scheduler:probe", "1")  # users.acl: its own keys only
    with pytest.raises(redis.AuthenticationError):
        _refused_login(primary, "matcher", "wrong").ping()
    with pytest.raises(redis.AuthenticationError):
        _refused_login(primary, "notifier", pw["matcher"]).ping()
    # No password ever reaches the ACL file in clear: only its SHA-256.
    acl = (started.tmp / "valkey-1" / "run" / "users.acl").read_text()
    assert pw["matcher"] not in acl and "#" in acl

    sentinel = Sentinel([("127.0.0.1", port) for port in sentinels], socket_timeout=2)

    async def named() -> bool:
        try:
            return sentinel.discover_master("alongside") == ("127.0.0.1", primary)
        except redis.RedisError:
            return False

    await eventually(named, timeout=30, interval=0.2, what="the Sentinels name the primary")
    peer = redis.Redis(port=sentinels[0], username="peer", password=pw["peer"], socket_timeout=2)
    assert peer.ping()
