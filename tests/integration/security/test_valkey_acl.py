"""Each service's Valkey user reaches only keys under its own prefix, with
only the commands the services use (deploy/valkey/users.acl), and runs only
the project's Lua: the functions an operator loaded, never a script of its own."""

from __future__ import annotations

import re

import pytest
import redis.asyncio as aioredis
from redis.exceptions import AuthenticationError, NoPermissionError, ResponseError

from alongside.api.matcher.v1 import events_pb2
from alongside.kit.events.envelope import Event
from alongside.kit.events.outbox import TRIM, Outbox
from alongside.kit.functions import MissingFunctions, fcall
from alongside.kit.libraries import catalogue
from alongside.kit.redis import Keys, client
from alongside.kit.testing.auth import TEST_AUTH
from alongside.kit.testing.secure_servers import DATABASES, SecureValkeyServer
from alongside.kit.testing.servers import service_commands
from alongside.kit.uow import GUARDED, Idempotency, Tx, UnitOfWork
from alongside.matcher.bootstrap import build as build_matcher
from alongside.matcher.settings import MatcherSettings
from tests.integration.security.conftest import DEPLOY, NAMESPACE, SERVICES, RedisLogin

REPO = DEPLOY.parent
MATCHER_KEY = f"{NAMESPACE}:matcher:{{p-1}}:peer"
# What a compromised service would like to run: it holds the server's one
# script thread until someone kills it.
BURN = "local n = 0 while true do n = n + 1 end"


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


async def test_functions_run_with_the_callers_key_permissions(redis_as: RedisLogin, seeded: aioredis.Redis) -> None:
    scheduler = redis_as("scheduler")
    with pytest.raises(ResponseError, match=r"(?i)no permissions to access a key"):
        await fcall(scheduler, TRIM.name, [MATCHER_KEY], ["0-1"])
    # Key names smuggled in as arguments are checked too: the guarded write
    # runs the commands it is handed, each with the caller's permissions.
    own = f"{NAMESPACE}:scheduler:{{x}}:idem"
    command = [b"DEL", MATCHER_KEY.encode()]
    packed = [str(len(command)), ",".join(str(len(a)) for a in command), b"".join(command)]
    with pytest.raises(ResponseError, match=r"(?i)no permissions to access a key"):
        await fcall(scheduler, GUARDED.name, [own], [b"fp", b"response", 60, *packed])
    assert await seeded.exists(MATCHER_KEY) == 1


async def test_a_service_cannot_run_a_script_of_its_own(redis_as: RedisLogin) -> None:
    """Neither ad-hoc Lua (EVAL, SCRIPT LOAD) nor a script someone else
    cached (EVALSHA), nor a function library of its own (FUNCTION LOAD)."""
    admin, matcher = redis_as("admin"), redis_as("matcher")
    sha = await admin.script_load(BURN)  # cached on the server, by someone allowed to
    burner = f"#!lua name=alongside_burn\n{BURN}\nredis.register_function('alongside_burn', function() end)"
    attempts = [
        ("SCRIPT", "LOAD", BURN),
        ("EVAL", BURN, "0"),
        ("EVAL_RO", BURN, "0"),
        ("EVALSHA", sha, "0"),
        ("EVALSHA_RO", sha, "0"),
        ("FUNCTION", "LOAD", burner),
        ("FUNCTION", "LOAD", "REPLACE", burner),
        ("FUNCTION", "DELETE", "alongside_kit"),
        ("FUNCTION", "FLUSH"),
        ("FUNCTION", "RESTORE", b"\x00"),
        ("FUNCTION", "DUMP"),
        ("FUNCTION", "LIST"),
        ("FUNCTION", "KILL"),
        ("SCRIPT", "KILL"),
        ("SCRIPT", "EXISTS", sha),
    ]
    for attempt in attempts:
        with pytest.raises(NoPermissionError):
            await matcher.execute_command(*attempt)
    assert await admin.function_list(library="alongside_burn") == []
    assert await matcher.ping()  # and nothing is burning the server's script thread


async def test_a_service_may_not_load_missing_functions_itself(
    redis_as: RedisLogin, secure_valkey: SecureValkeyServer, nats_url: str, namespace: str
) -> None:
    """Even allowed to provision (the default), a service under the deployed
    ACL cannot load the libraries: it stops, saying an operator must."""
    admin = redis_as("admin")
    await admin.function_flush()
    settings = MatcherSettings.from_env(
        {}, **TEST_AUTH, nats_url=nats_url, redis_url=secure_valkey.url_for("matcher"), namespace=namespace
    )
    assert settings.provision_functions
    with pytest.raises(MissingFunctions, match="this user may not load them") as missing:
        await build_matcher(settings).start()
    assert missing.value.names == ["alongside_kit"]
    assert await admin.function_list() == []


async def test_a_service_calls_every_project_function(redis_as: RedisLogin) -> None:
    """The operator loaded the libraries; each service's user may call them."""
    for user in SERVICES:
        r = redis_as(user)
        for library in catalogue():
            assert (await r.fcall_ro(library.version_function, 0)).decode() == library.version


@pytest.mark.parametrize(
    "command",
    [
        ("FLUSHALL",),
        ("KEYS", "*"),
        ("CONFIG", "GET", "*"),
        ("ACL", "LIST"),
        ("CLIENT", "LIST"),
        ("EVAL", "return 1", "0"),
        ("FUNCTION", "FLUSH"),
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
    """The unit of work (WATCH/MULTI/EXEC, its guarded function) and the
    outbox, under the matcher's user."""
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


def test_every_command_the_functions_call_is_granted() -> None:
    """Functions run with their caller's permissions: a command missing from
    the ACL would fail only in a deployment that uses it."""
    called = set()
    for library in catalogue():
        called |= {c.lower() for c in re.findall(r"redis\.call\(\s*['\"](\w+)['\"]", library.source)}
    assert called, "no functions found"
    for user in SERVICES:
        assert called <= granted(user), f"{user} lacks {sorted(called - granted(user))}"


def test_the_service_users_may_call_functions_but_not_load_code() -> None:
    for user in SERVICES:
        rules = granted(user)
        assert {"fcall", "fcall_ro"} <= rules
        code = {r for r in rules if r.startswith(("eval", "script", "function", "@"))}
        assert not code, f"{user} may run or load code: {sorted(code)}"


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
        refused_commands = [
            ("INFO",),
            ("KEYS", "*"),
            ("SCRIPT", "FLUSH"),
            ("OBJECT", "ENCODING", "acl-probe"),
            ("EVAL", "return 1", "0"),
            ("FUNCTION", "FLUSH"),
        ]
        for refused in refused_commands:
            with pytest.raises(NoPermissionError):
                await services.execute_command(*refused)
        assert "redis_version" in await admin.info()
    finally:
        await admin.delete("acl-probe")
        await services.aclose()
        await admin.aclose()


def test_the_service_users_share_one_command_list() -> None:
    rules = service_commands((DEPLOY / "valkey" / "users.acl").read_text())
    assert rules[0] == "-@all" and "+fcall" in rules and "+evalsha" not in rules and "+keys" not in rules
    with pytest.raises(ValueError, match="differ"):
        service_commands("user matcher on -@all +get\nuser scheduler on -@all +get +set\n")
