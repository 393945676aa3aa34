"""Rotating a service's Valkey password with no downtime, with the runbook's
own commands (docs/operations.md, "Valkey passwords"), against Valkey running
deploy/valkey's valkey.conf and users.acl: a matcher logged in with the old
password keeps serving while the new one is added, a replica with the new
password starts beside it, and once the old one is removed only the new one
logs in, in memory and in the saved ACL file. And a NATS password, through a
second user with the same permissions in deploy/nats/nats-server.conf."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import nats
import nats.errors
import pytest
import redis
from redis.exceptions import AuthenticationError

from alongside.api.matcher.v1 import matcher_pb2_grpc
from alongside.kit.events.streams import provision
from alongside.kit.runtime import Runtime
from alongside.kit.testing.auth import TEST_AUTH, channel
from alongside.kit.testing.secure_servers import SecureNatsServer, SecureValkeyServer
from alongside.kit.testing.servers import NatsServer, ValkeyServer, free_port, provision_functions
from alongside.kit.testing.wait import eventually
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
async def matcher(nats_url: str, redis_url: str, **more: object) -> AsyncIterator[Runtime]:
    # deploy/ is written for NAMESPACE=alongside; this test's servers are its own.
    settings = MatcherSettings.from_env(
        {}, **TEST_AUTH, nats_url=nats_url, redis_url=redis_url, namespace="alongside", **more
    )
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


# --- NATS: a second user for the switch-over ----------------------------------------------------

NATS_CONF = DEPLOY.parent / "nats" / "nats-server.conf"
ACCOUNTS = NATS_CONF.parent / "accounts.conf"  # the users, which nats-server.conf includes


def with_second_user(conf: str, keep_old: bool) -> str:
    """The runbook's step 1 (``keep_old``) or step 3: the matcher's user block copied as
    ``matcher_b`` with its own password variable, beside the original or instead of it."""
    start = conf.index("    {\n      user: matcher\n")
    end = conf.index("\n    }\n", start) + len("\n    }\n")
    block = conf[start:end]
    copy = block.replace("user: matcher\n", "user: matcher_b\n").replace(
        "$MATCHER_NATS_PASSWORD", "$MATCHER_B_NATS_PASSWORD"
    )
    assert copy != block
    return conf[:start] + (block if keep_old else "") + copy + conf[end:]


async def audit_messages(admin_url: str) -> int:
    nc = await nats.connect(admin_url)
    try:
        return (await nc.jetstream().stream_info("ALONGSIDE_AUDIT")).state.messages
    finally:
        await nc.close()


async def relayed(runtime: Runtime) -> None:
    deps = runtime.deps
    assert deps is not None

    async def empty() -> bool:
        return not [k async for k in deps.redis.scan_iter(match=deps.keys.pattern("outbox"))]

    await eventually(empty, timeout=30, what="the outbox relayed to JetStream")


async def test_a_nats_password_rotates_through_a_second_user(own_valkey: ValkeyServer, tmp_path: Path) -> None:
    passwords = {"matcher": OLD, "matcher_b": NEW, "admin": ADMIN, "scheduler": "s" * 40, "notifier": "n" * 40}
    folder, port = tmp_path / "nats", free_port()
    configs = {"before": NATS_CONF}
    for phase, keep_old in (("step 1", True), ("step 3", False)):  # each phase's own folder: its accounts.conf
        changed = tmp_path / phase.replace(" ", "")
        changed.mkdir()
        (changed / ACCOUNTS.name).write_text(with_second_user(ACCOUNTS.read_text(), keep_old=keep_old))
        configs[phase] = changed / NATS_CONF.name
        configs[phase].write_text(NATS_CONF.read_text())

    def nats_with(phase: str) -> SecureNatsServer:
        # nats-server refuses a variable the file does not use: each phase gets only its users'.
        unused = {"before": "matcher_b", "step 1": "", "step 3": "matcher"}[phase]
        chosen = {user: pw for user, pw in passwords.items() if user != unused}
        server = SecureNatsServer(configs[phase], chosen, root=folder, port=port)
        server.start()
        return server

    server = nats_with("before")
    admin = server.url_for("admin")
    try:
        nc = await nats.connect(admin)
        await provision(nc.jetstream(), "alongside")
        await nc.close()
        async with matcher(server.url_for("matcher"), own_valkey.url, provision_streams=False) as old_replica:
            await serves(old_replica, "n-1")
            await relayed(old_replica)
            seen = await audit_messages(admin)

            server.stop()  # step 1: the NATS server restarted with both users
            server = nats_with("step 1")
            await serves(old_replica, "n-2")
            await relayed(old_replica)  # the old user still publishes
            async with matcher(server.url_for("matcher_b"), own_valkey.url, provision_streams=False) as new_replica:
                await serves(new_replica, "n-3")  # step 2: a replica as the new user
                await relayed(new_replica)
                await old_replica.stop()
                assert await audit_messages(admin) >= seen + 2

                server.stop()  # step 3: the old user removed
                server = nats_with("step 3")
                seen = await audit_messages(admin)
                await serves(new_replica, "n-4")
                await relayed(new_replica)
                assert await audit_messages(admin) > seen
        with pytest.raises((nats.errors.Error, OSError)):
            await nats.connect(
                f"nats://matcher:{OLD}@127.0.0.1:{port}", allow_reconnect=False, max_reconnect_attempts=0
            )
    finally:
        server.close()
