"""A service runtime: health follows its dependencies, reflection, SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from alongside.kit.runtime import Runtime
from alongside.kit.testing.auth import TEST_AUTH
from alongside.kit.testing.processes import Child
from alongside.kit.testing.servers import NatsServer, ValkeyServer
from alongside.kit.testing.wait import eventually
from alongside.matcher.bootstrap import build
from alongside.matcher.settings import MatcherSettings

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


async def health_status(port: int, service: str = "") -> int:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        reply = await stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=2)
        return int(reply.status)


async def wait_status(port: int, expected: int, timeout: float = 15.0) -> None:
    async def reached() -> bool:
        return await health_status(port) == expected

    await eventually(reached, timeout=timeout, interval=0.1, what=f"health {expected}")


@pytest.fixture
async def matcher(nats_url: str, own_valkey: ValkeyServer, namespace: str) -> AsyncIterator[Runtime]:
    settings = MatcherSettings.from_env(
        {},
        **TEST_AUTH, nats_url=nats_url, redis_url=own_valkey.url, namespace=namespace, health_interval_seconds=0.1
    )
    runtime = build(settings)
    await runtime.start()
    yield runtime
    await runtime.stop()


async def test_health_follows_redis(matcher: Runtime, own_valkey: ValkeyServer) -> None:
    await wait_status(matcher.port, SERVING)
    assert await health_status(matcher.port, "alongside.matcher.v1.MatcherService") == SERVING
    own_valkey.stop()
    await wait_status(matcher.port, NOT_SERVING)
    own_valkey.start()
    await wait_status(matcher.port, SERVING)


@pytest.fixture
async def matcher_on_own_nats(own_nats: NatsServer, redis_url: str, namespace: str) -> AsyncIterator[Runtime]:
    settings = MatcherSettings.from_env(
        {},
        **TEST_AUTH, nats_url=own_nats.url, redis_url=redis_url, namespace=namespace, health_interval_seconds=0.1
    )
    runtime = build(settings)
    await runtime.start()
    yield runtime
    await runtime.stop()


async def test_health_follows_nats_down_and_hung(matcher_on_own_nats: Runtime, own_nats: NatsServer) -> None:
    """NOT_SERVING while NATS is gone and while it hangs (SIGSTOP: the socket
    stays open, so only a round trip shows it), SERVING again after each."""
    port = matcher_on_own_nats.port
    await wait_status(port, SERVING)
    assert own_nats.proc is not None
    own_nats.proc.send_signal(signal.SIGSTOP)
    try:
        await wait_status(port, NOT_SERVING)
    finally:
        own_nats.proc.send_signal(signal.SIGCONT)
    await wait_status(port, SERVING)
    own_nats.stop()
    await wait_status(port, NOT_SERVING)
    own_nats.start()
    await wait_status(port, SERVING, timeout=30)


async def test_one_failed_probe_does_not_flap_health(matcher: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    """A single slow or failed probe between good ones leaves the replica SERVING."""
    await wait_status(matcher.port, SERVING)
    real, calls = matcher.dependencies_ok, 0
    seen: list[int] = []

    async def every_other_fails() -> bool:
        nonlocal calls
        calls += 1
        return await real() if calls % 2 else False

    monkeypatch.setattr(matcher, "dependencies_ok", every_other_fails)
    for _ in range(20):
        seen.append(await health_status(matcher.port))
        await asyncio.sleep(0.05)
    assert calls >= 4 and set(seen) == {SERVING}


async def test_reflection_lists_the_services(matcher: Runtime) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{matcher.port}") as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)

        async def requests() -> AsyncIterator[reflection_pb2.ServerReflectionRequest]:
            yield reflection_pb2.ServerReflectionRequest(list_services="")

        async for reply in stub.ServerReflectionInfo(requests()):
            names = {s.name for s in reply.list_services_response.service}
            break
    assert {"alongside.matcher.v1.MatcherService", "grpc.health.v1.Health"} <= names


def test_sigterm_drains_and_exits_cleanly(nats_url: str, redis_url: str, namespace: str) -> None:
    env = {
        **os.environ,
        "NATS_URL": nats_url,
        "REDIS_URL": redis_url,
        "NAMESPACE": namespace,
        "LISTEN_ADDR": "127.0.0.1:0",
        "GRACE_SECONDS": "2",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "alongside.scheduler"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    assert proc.stdout is not None
    lines = []
    for raw in proc.stdout:
        lines.append(raw.decode())
        if "listening on" in lines[-1]:
            break
    port = int(lines[-1].rsplit(":", 1)[1])
    asyncio.run(wait_status(port, SERVING))
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0
    assert b"service.stopped" in out


def test_bad_configuration_fails_at_start_with_a_clear_message() -> None:
    env = {**os.environ, "NATS_URL": "http://wrong", "REDIS_URL": "redis://127.0.0.1:1/0"}
    result = subprocess.run([sys.executable, "-m", "alongside.notifier"], env=env, capture_output=True, timeout=30)
    assert result.returncode == 2
    assert b"NATS_URL must be a URL" in result.stderr


def test_sigterm_exits_even_when_nats_is_gone(own_nats: NatsServer, redis_url: str, namespace: str) -> None:
    env = {"NATS_URL": own_nats.url, "REDIS_URL": redis_url, "NAMESPACE": namespace}
    child = Child("alongside.matcher", env)
    try:
        own_nats.stop()
        assert child.stop() == 0  # drained what it could, then closed; no hang
    finally:
        child.close()
