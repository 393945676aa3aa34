"""The project's Lua as Valkey functions: an operator loads them with
`alongside valkey provision`; a service checks at start-up that the code it
was built with is loaded, and stops naming what is missing or stale (unless
it may load them itself, PROVISION_FUNCTIONS=true)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from typer.testing import CliRunner

from alongside.cli.app import app
from alongside.kit.functions import MissingFunctions, require
from alongside.kit.libraries import KIT, catalogue
from alongside.kit.testing.auth import AUTH_ENV, TEST_AUTH
from alongside.kit.testing.processes import Child
from alongside.kit.testing.servers import ValkeyServer
from alongside.scheduler.adapters.functions import LIBRARY as SCHEDULER
from alongside.scheduler.bootstrap import build
from alongside.scheduler.settings import SchedulerSettings


@pytest.fixture
async def bare(own_valkey: ValkeyServer) -> AsyncIterator[aioredis.Redis]:
    """An operator's login to a Valkey that holds no functions."""
    r = aioredis.Redis.from_url(own_valkey.url)
    await r.function_flush()
    yield r
    await r.aclose()


def provision_with_cli(redis_url: str, *args: str, timeout_s: float = 10.0, json: bool = False) -> tuple[int, str]:
    env = {"REDIS_URL": redis_url, "ALONGSIDE_TIMEOUT": str(timeout_s), "COLUMNS": "200"}
    result = CliRunner().invoke(app, [*(["--json"] if json else []), "valkey", "provision", *args], env=env)
    return result.exit_code, result.output


async def libraries(r: aioredis.Redis) -> list[str]:
    listed = await r.function_list()
    return sorted(entry[entry.index(b"library_name") + 1].decode() for entry in listed)


def scheduler_settings(nats_url: str, redis_url: str, namespace: str, *, provision: bool) -> SchedulerSettings:
    return SchedulerSettings.from_env(
        {}, **TEST_AUTH, nats_url=nats_url, redis_url=redis_url, namespace=namespace, provision_functions=provision
    )


async def test_a_service_that_may_not_provision_stops_and_names_the_missing_libraries(
    nats_url: str, own_valkey: ValkeyServer, bare: aioredis.Redis, namespace: str
) -> None:
    settings = scheduler_settings(nats_url, own_valkey.url, namespace, provision=False)
    with pytest.raises(MissingFunctions) as missing:
        await build(settings).start()
    assert missing.value.names == ["alongside_kit", "alongside_scheduler"]
    assert "alongside_kit (missing)" in str(missing.value) and "alongside valkey provision" in str(missing.value)
    assert await libraries(bare) == []  # and it loaded nothing

    code, output = await asyncio.to_thread(provision_with_cli, own_valkey.url)
    assert code == 0, output
    assert all(library.name in output and library.version in output for library in catalogue())
    runtime = build(settings)
    await runtime.start()  # now it finds them
    await runtime.stop()


async def test_provisioning_is_idempotent(own_valkey: ValkeyServer, bare: aioredis.Redis) -> None:
    first = await asyncio.to_thread(provision_with_cli, own_valkey.url, json=True)
    again = await asyncio.to_thread(provision_with_cli, own_valkey.url, json=True)
    assert first[0] == again[0] == 0, (first, again)
    assert first[1].count('"loaded"') == len(catalogue()) and '"already_loaded"' not in first[1]
    assert again[1].count('"already_loaded"') == len(catalogue()) and '"loaded"' not in again[1]
    assert await libraries(bare) == sorted(library.name for library in catalogue())
    for library in catalogue():
        assert (await bare.fcall_ro(library.version_function, 0)).decode() == library.version


async def test_a_stale_library_is_noticed_and_replaced_only_where_allowed(
    nats_url: str, own_valkey: ValkeyServer, bare: aioredis.Redis, namespace: str
) -> None:
    """A library loaded from other code (an older release) is as good as
    missing: the service would call functions whose arguments may differ."""
    old = SCHEDULER.source.replace(SCHEDULER.version, "0ld0ld0ld0ld0ld0")
    await bare.function_load(KIT.source)
    await bare.function_load(old)
    with pytest.raises(MissingFunctions) as stale:
        await build(scheduler_settings(nats_url, own_valkey.url, namespace, provision=False)).start()
    assert stale.value.names == ["alongside_scheduler"]
    assert f"version 0ld0ld0ld0ld0ld0, this build needs {SCHEDULER.version}" in str(stale.value)

    runtime = build(scheduler_settings(nats_url, own_valkey.url, namespace, provision=True))
    await runtime.start()  # a development login may load them itself
    await runtime.stop()
    assert (await bare.fcall_ro(SCHEDULER.version_function, 0)).decode() == SCHEDULER.version


def test_the_process_exits_with_a_message_not_a_traceback(
    nats_url: str, own_valkey: ValkeyServer, namespace: str
) -> None:
    async def flush() -> None:
        async with aioredis.Redis.from_url(own_valkey.url) as admin:
            await admin.function_flush()

    asyncio.run(flush())
    env = {
        **AUTH_ENV,
        "NATS_URL": nats_url,
        "REDIS_URL": own_valkey.url,
        "NAMESPACE": namespace,
        "PROVISION_FUNCTIONS": "false",
    }
    with pytest.raises(RuntimeError, match="exited with 2") as failed:
        Child("alongside.scheduler", env)
    assert "Valkey function libraries missing or stale: alongside_kit (missing)" in str(failed.value)
    assert "Traceback" not in str(failed.value)


def test_show_prints_the_libraries_without_loading_them(own_valkey: ValkeyServer) -> None:
    code, output = provision_with_cli("redis://127.0.0.1:1/0", "--show")
    assert code == 0
    assert all(f"#!lua name={library.name}" in output for library in catalogue())


def test_an_unreachable_valkey_is_reported(unused_tcp_port: int) -> None:
    code, output = provision_with_cli(f"redis://admin:s3cret-pw@127.0.0.1:{unused_tcp_port}/0", timeout_s=1.0)
    assert code == 3 and f"cannot reach Valkey at 127.0.0.1:{unused_tcp_port}" in output
    assert "s3cret-pw" not in output  # the URL's password is never echoed


async def test_the_check_waits_for_a_valkey_that_starts_late(own_valkey: ValkeyServer) -> None:
    """As for NATS: a service may start before Valkey; it waits for it up to a deadline."""
    r = aioredis.Redis.from_url(own_valkey.url)
    try:
        own_valkey.stop()
        with pytest.raises(ConnectionError, match="cannot reach Valkey at start-up"):
            await require(r, catalogue(), may_provision=False, startup_timeout_s=0.3)
        checking = asyncio.create_task(require(r, catalogue(), may_provision=False, startup_timeout_s=30))
        await asyncio.to_thread(own_valkey.start)  # its AOF still holds the functions
        await asyncio.wait_for(checking, 30)
    finally:
        await r.aclose()
