"""Rotating a service's Valkey password with no downtime, with the runbook's
own commands (docs/operations.md, "Valkey passwords"), against Valkey running
deploy/valkey's valkey.conf and users.acl: a matcher logged in with the old
password keeps serving while the new one is added, a replica with the new
password starts beside it, and once the old one is removed only the new one
logs in, in memory and in the saved ACL file."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import redis
from redis.exceptions import AuthenticationError

from alongside.api.matcher.v1 import matcher_pb2_grpc
from alongside.kit.runtime import Runtime
from alongside.kit.testing.auth import TEST_AUTH, channel
from alongside.kit.testing.secure_servers import SecureValkeyServer
from alongside.kit.testing.servers import NatsServer, provision_functions
from alongside.matcher.bootstrap import build
from alongside.matcher.settings import MatcherSettings

from ..matcher.conftest import NOW, intake
from .runbook import run, shell_env

DEPLOY = Path(__file__).resolve().parents[3] / "deploy" / "valkey"
OLD, NEW, ADMIN = "old-" + "a" * 40, "new-" + "b" * 40, "admin-" + "c" * 40


@pytest.fixture
def valkey() -> Iterator[SecureValkeyServer]:
    server = SecureValkeyServer(DEPLOY / "valkey.conf", DEPLOY / "users.acl", {"matcher": OLD, "admin": ADMIN})
    server.start()
    provision_functions(server.url_for("admin"))
    yield server
    server.close()


@asynccontextmanager
async def matcher(nats_url: str, redis_url: str) -> AsyncIterator[Runtime]:
    # deploy/valkey/users.acl is written for NAMESPACE=alongside; this test's servers are its own.
    settings = MatcherSettings.from_env({}, **TEST_AUTH, nats_url=nats_url, redis_url=redis_url, namespace="alongside")
    runtime = build(settings, clock=lambda: NOW)
    await runtime.start()
    try:
        yield runtime
    finally:
        await runtime.stop()


async def serves(runtime: Runtime, key: str) -> None:
    async with channel(f"127.0.0.1:{runtime.port}", role="intake", subject="staff-1") as chan:
        await matcher_pb2_grpc.MatcherServiceStub(chan).SubmitMatchRequest(intake(key))


def logs_in(valkey: SecureValkeyServer, password: str) -> bool:
    client = redis.Redis(host="127.0.0.1", port=valkey.port, username="matcher", password=password, db=1)
    try:
        return bool(client.ping())
    except AuthenticationError:
        return False
    finally:
        client.close()


def saved_hashes(valkey: SecureValkeyServer) -> set[str]:
    line = next(x for x in (valkey.root / "users.acl").read_text().splitlines() if x.startswith("user matcher "))
    return {word[1:] for word in line.split() if word.startswith("#")}


def sha(password: str) -> str:
    return hashlib.sha256(password.encode()).hexdigest()


async def test_a_valkey_password_rotates_while_the_service_serves(
    valkey: SecureValkeyServer, own_nats: NatsServer, tmp_path: Path
) -> None:
    env = {
        **shell_env(tmp_path),
        "VALKEY_ADMIN_URL": valkey.url_for("admin"),
        "OLD_MATCHER_REDIS_PASSWORD": OLD,
        "NEW_MATCHER_REDIS_PASSWORD": NEW,
    }
    old_url = valkey.url_for("matcher")
    new_url = old_url.replace(OLD, NEW)
    async with matcher(own_nats.url, old_url) as old_replica:
        await serves(old_replica, "pw-1")
        run("valkey-password-add", env, tmp_path)
        assert logs_in(valkey, OLD) and logs_in(valkey, NEW)
        assert saved_hashes(valkey) == {sha(OLD), sha(NEW)}
        await serves(old_replica, "pw-2")  # its connections go on
        async with matcher(own_nats.url, new_url) as new_replica:
            await serves(new_replica, "pw-3")
            await old_replica.stop()  # the rolling restart's end: no replica uses the old password
            run("valkey-password-remove", env, tmp_path)
            assert not logs_in(valkey, OLD) and logs_in(valkey, NEW)
            assert saved_hashes(valkey) == {sha(NEW)}
            await serves(new_replica, "pw-4")
