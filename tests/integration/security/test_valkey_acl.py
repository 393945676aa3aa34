"""Each service's Valkey user reaches only keys under its own prefix, with
only the commands the services use (deploy/valkey/users.acl)."""

from __future__ import annotations

import re

import pytest
import redis.asyncio as aioredis
from redis.exceptions import AuthenticationError, NoPermissionError, ResponseError

from alongside.api.matcher.v1 import events_pb2
from alongside.kit.events.envelope import Event
from alongside.kit.events.outbox import Outbox
from alongside.kit.redis import Keys, client
from alongside.kit.testing.secure_servers import DATABASES, SecureValkeyServer
from alongside.kit.testing.servers import service_commands
from alongside.kit.uow import Idempotency, Tx, UnitOfWork
from tests.integration.security.conftest import DEPLOY, NAMESPACE, SERVICES, RedisLogin

REPO = DEPLOY.parent
MATCHER_KEY = f"{NAMESPACE}:matcher:{{p-1}}:peer"


@pytest.fixture
async def seeded(redis_as: RedisLogin) -> aioredis.Redis:
    admin = redis_as("admin", DATABASES["matcher"])
    await admin.hset(MATCHER_KEY, mapping={"status": "active"})
    return admin


async def test_a_service_cannot_touch_another_services_keys(redis_as: RedisLogin, seeded: aioredis.Redis) -> None:
    scheduler = redis_as("scheduler")
    attempts = [
        scheduler.hgetall(MATCHER_KEY),
        scheduler.hset(MATCHER_KEY, "status", "inactive"),
        scheduler.delete(MATCHER_KEY),
        scheduler.exists(MATCHER_KEY),
        scheduler.set(f"{NAMESPACE}:matcher:{{p-2}}:peer", b"planted"),
    ]
    for attempt in attempts:
        with pytest.raises(NoPermissionError):
            await attempt
    assert await seeded.hgetall(MATCHER_KEY) == {b"status": b"active"}


async def test_a_service_cannot_even_list_another_services_keys(redis_as: RedisLogin, seeded: aioredis.Redis) -> None:
    """Each service has its own database: SCAN, which key patterns do not
    limit, sees only the caller's own keys."""
    scheduler = redis_as("scheduler")
    await scheduler.set(f"{NAMESPACE}:scheduler:{{s-1}}:x", b"1")
    listed = {key async for key in scheduler.scan_iter(match="*")}
    assert listed == {f"{NAMESPACE}:scheduler:{{s-1}}:x".encode()}
    for other in ("matcher", "notifier"):
        with pytest.raises(NoPermissionError):
            await scheduler.execute_command("SELECT", str(DATABASES[other]))


async def test_scripts_run_with_the_callers_key_permissions(redis_as: RedisLogin, seeded: aioredis.Redis) -> None:
    scheduler = redis_as("scheduler")
    wipe = scheduler.register_script("return redis.call('DEL', KEYS[1])")
    with pytest.raises(ResponseError, match=r"(?i)no permissions to access a key"):
        await wipe(keys=[MATCHER_KEY])
    # Key names smuggled in as arguments are checked too.
    sneaky = scheduler.register_script("return redis.call('DEL', ARGV[1])")
    with pytest.raises(ResponseError, match=r"(?i)no permissions to access a key"):
        await sneaky(keys=[f"{NAMESPACE}:scheduler:{{x}}:y"], args=[MATCHER_KEY])
    assert await seeded.exists(MATCHER_KEY) == 1


@pytest.mark.parametrize(
    "command",
    [
        ("FLUSHALL",),
        ("KEYS", "*"),
        ("CONFIG", "GET", "*"),
        ("ACL", "LIST"),
        ("CLIENT", "LIST"),
        ("EVAL", "return 1", "0"),
        ("SUBSCRIBE", "anything"),
        ("SCRIPT", "FLUSH"),
        ("SELECT", "0"),  # any database but its own
        ("SELECT", "2"),
        ("SHUTDOWN",),
    ],
)
async def test_administrative_commands_are_refused(redis_as: RedisLogin, command: tuple[str, ...]) -> None:
    with pytest.raises(NoPermissionError):
        await redis_as("matcher").execute_command(*command)


async def test_anonymous_and_wrong_passwords_are_refused(secure_valkey: SecureValkeyServer) -> None:
    wrong = secure_valkey.url_for("matcher").replace(secure_valkey.passwords["matcher"], "guess")
    for url in (secure_valkey.url, wrong):
        r = client(url)
        with pytest.raises(AuthenticationError):
            await r.ping()
        await r.aclose()


async def test_a_service_does_its_own_work(redis_as: RedisLogin) -> None:
    """The unit of work (WATCH/MULTI/EXEC, its guarded script) and the outbox,
    under the matcher's user."""
    r = redis_as("matcher")
    keys = Keys(NAMESPACE, "matcher")
    outbox = Outbox(r, keys)
    uow = UnitOfWork(r, keys, outbox)
    peer = keys.key("p-1", "peer")
    event = Event.of("peer.upserted", "/alongside/matcher", events_pb2.PeerUpserted(peer_id="p-1"), subject="p-1")

    async def body(tx: Tx) -> bytes:
        await tx.watch(peer)
        await tx.pipe.hgetall(peer)
        tx.begin()
        tx.pipe.hset(peer, "status", "active")
        tx.emit("p-1", event)
        return b"ok"

    def blind(tx: Tx) -> bytes:
        tx.pipe.hset(keys.key("p-2", "peer"), "status", "active")
        tx.emit("p-2", event)
        return b"ok"

    idem = Idempotency.of("p-1", "UpsertPeer", "k-1", b"request")
    assert await uow.run(body, idempotency=idem) == b"ok"
    assert await uow.run(body, idempotency=idem) == b"ok"  # a replay
    assert await uow.run_blind(blind, idempotency=Idempotency.of("p-2", "UpsertPeer", "k-2", b"request")) == b"ok"
    found = {k async for k in r.scan_iter(match=keys.pattern("outbox"))}
    assert found == {keys.key("p-1", "outbox").encode(), keys.key("p-2", "outbox").encode()}
    assert await r.xlen(keys.key("p-1", "outbox")) == 1


def test_every_command_the_scripts_call_is_granted() -> None:
    """Scripts run with their caller's permissions: a command missing from the
    ACL would fail only in a deployment that uses it."""
    called = set()
    for path in [*REPO.glob("services/*/alongside/**/*.lua"), *REPO.glob("services/*/alongside/**/*.py"),
                 *REPO.glob("kit/alongside/kit/**/*.py")]:  # fmt: skip
        called |= {c.lower() for c in re.findall(r"redis\.call\(\s*['\"](\w+)['\"]", path.read_text())}
    assert called, "no scripts found"
    for user in SERVICES:
        assert called <= granted(user), f"{user} lacks {sorted(called - granted(user))}"


def granted(user: str) -> set[str]:
    for line in (DEPLOY / "valkey" / "users.acl").read_text().splitlines():
        words = line.split()
        if words[:2] == ["user", user]:
            return {w[1:].lower() for w in words if w.startswith("+")}
    raise AssertionError(f"no user {user}")


async def test_every_suite_runs_its_services_with_only_the_granted_commands(
    redis_url: str, redis_admin_url: str
) -> None:
    """The session's Valkey login (which every service under test uses) has
    the services' command list, so a redis-py call that production would
    refuse fails in the suites too; an operator's command needs the admin."""
    services, admin = aioredis.Redis.from_url(redis_url), aioredis.Redis.from_url(redis_admin_url)
    try:
        await services.set("acl-probe", b"1")
        assert await services.get("acl-probe") == b"1"
        for refused in (("INFO",), ("KEYS", "*"), ("SCRIPT", "FLUSH"), ("OBJECT", "ENCODING", "acl-probe")):
            with pytest.raises(NoPermissionError):
                await services.execute_command(*refused)
        assert "redis_version" in await admin.info()
    finally:
        await admin.delete("acl-probe")
        await services.aclose()
        await admin.aclose()


def test_the_service_users_share_one_command_list() -> None:
    rules = service_commands((DEPLOY / "valkey" / "users.acl").read_text())
    assert rules[0] == "-@all" and "+evalsha" in rules and "+keys" not in rules
    with pytest.raises(ValueError, match="differ"):
        service_commands("user matcher on -@all +get\nuser scheduler on -@all +get +set\n")
