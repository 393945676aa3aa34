"""The outbox relay as a child process (OUTBOX_RELAY=process, the matcher's
default): it relays, a killed one is replaced without losing or doubling an
event, a graceful stop relays the last commits, and it never outlives its
service."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import nats
import pytest
from nats.js import JetStreamContext

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.api.matcher.v1 import matcher_pb2_grpc
from alongside.kit.events.envelope import Event
from alongside.kit.events.relay_process import RelayProcess
from alongside.kit.events.streams import CATALOGUE, stream_name
from alongside.kit.runtime import Runtime
from alongside.kit.testing.auth import AUTH_ENV, TEST_AUTH, channel
from alongside.kit.testing.processes import Child, children, is_relay
from alongside.kit.testing.wait import eventually
from alongside.matcher.bootstrap import build
from alongside.matcher.settings import MatcherSettings

from ..matcher.conftest import NOW, peer


@pytest.fixture
async def matcher(nats_url: str, redis_url: str, namespace: str) -> AsyncIterator[Runtime]:
    settings = MatcherSettings.from_env({}, **TEST_AUTH, nats_url=nats_url, redis_url=redis_url, namespace=namespace)
    assert settings.outbox_relay == "process"
    runtime = build(settings, clock=lambda: NOW)
    await runtime.start()
    yield runtime
    await runtime.stop()


def relay_of(runtime: Runtime) -> RelayProcess:
    assert isinstance(runtime.relay, RelayProcess)
    return runtime.relay


async def upsert(runtime: Runtime, *peer_ids: str) -> None:
    async with channel(f"127.0.0.1:{runtime.port}", role="admin") as chan:
        stub = matcher_pb2_grpc.MatcherServiceStub(chan)
        for peer_id in peer_ids:
            await stub.UpsertPeer(pb.UpsertPeerRequest(idempotency_key=f"up-{peer_id}", peer=peer(peer_id)))


async def peer_events(js: JetStreamContext, namespace: str) -> list[Event]:
    spec = next(s for s in CATALOGUE if s.aggregate == "peer")
    name = stream_name(namespace, spec)
    info = await js.stream_info(name)
    if info.state.messages == 0:
        return []
    found = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        raw = await js.get_msg(name, seq)
        found.append(Event.from_headers(dict(raw.headers or {}), raw.data or b""))
    return found


async def wait_for_events(js: JetStreamContext, namespace: str, count: int) -> list[Event]:
    async def enough() -> bool:
        return len(await peer_events(js, namespace)) >= count

    await eventually(enough, timeout=15, what=f"{count} peer events on the stream")
    return await peer_events(js, namespace)


def cmdline(pid: int) -> bytes:
    return Path(f"/proc/{pid}/cmdline").read_bytes()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) is not running either.
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"


async def test_events_go_out_through_the_child(matcher: Runtime, namespace: str) -> None:
    assert matcher.deps is not None
    await upsert(matcher, "rp-1")
    events = await wait_for_events(matcher.deps.js, namespace, 1)
    assert [e.type for e in events] == ["peer.upserted"]
    relay = relay_of(matcher)
    assert relay.pid is not None and is_relay(relay.pid)

    async def reported() -> bool:  # the report follows the publish down a pipe
        return relay.published >= 1

    await eventually(reported, what="the child's report reached this process")
    # Its connection settings came through a pipe, not its command line.
    assert b"redis://" not in cmdline(relay.pid)


async def test_a_killed_relay_is_replaced_and_no_event_is_lost_or_doubled(matcher: Runtime, namespace: str) -> None:
    assert matcher.deps is not None
    await upsert(matcher, "rk-0")
    await wait_for_events(matcher.deps.js, namespace, 1)
    relay = relay_of(matcher)
    first = relay.pid
    assert first is not None
    os.kill(first, signal.SIGKILL)
    # Committed while no relay runs: they wait in Redis for the next one.
    await upsert(matcher, *(f"rk-{i}" for i in range(1, 6)))

    def replaced() -> bool:
        pid = relay.pid
        return pid is not None and pid != first and alive(pid)

    await eventually(replaced, timeout=15, what="a new relay process")
    events = await wait_for_events(matcher.deps.js, namespace, 6)
    subjects = sorted(e.subject for e in events)
    assert subjects == [f"rk-{i}" for i in range(6)]
    assert len({e.id for e in events}) == 6


async def test_a_graceful_stop_relays_the_last_commits(nats_url: str, redis_url: str, namespace: str) -> None:
    settings = MatcherSettings.from_env({}, **TEST_AUTH, nats_url=nats_url, redis_url=redis_url, namespace=namespace)
    runtime = build(settings, clock=lambda: NOW)
    await runtime.start()
    assert runtime.deps is not None
    await upsert(runtime, "rs-0")
    await wait_for_events(runtime.deps.js, namespace, 1)  # the child is up and relaying
    pid = relay_of(runtime).pid
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)  # it cannot relay these before it learns the service stops
    try:
        await upsert(runtime, *(f"rs-{i}" for i in range(1, 8)))
        stopping = asyncio.create_task(runtime.stop())
        relay = relay_of(runtime)
        await eventually(lambda: not relay.hinting, what="the service to close the relay's stdin")
    finally:
        os.kill(pid, signal.SIGCONT)
    await stopping
    assert not alive(pid)
    nc = await nats.connect(nats_url)  # the service's own connection is closed
    try:
        events = await peer_events(nc.jetstream(), namespace)
    finally:
        await nc.close()
    assert sorted(e.subject for e in events) == [f"rs-{i}" for i in range(8)]


async def test_the_relay_does_not_outlive_its_service(nats_url: str, redis_url: str, namespace: str) -> None:
    env = {**AUTH_ENV, "NATS_URL": nats_url, "REDIS_URL": redis_url, "NAMESPACE": namespace}
    service = Child("alongside.matcher", env)
    try:

        def relays() -> list[int]:
            return [pid for pid in children(service.proc.pid) if is_relay(pid)]

        await eventually(lambda: len(relays()) == 1, what="the relay child")
        (relay,) = relays()
        service.stop(kill=True)
        # Its stdin closes with the service, so it finishes and exits by itself.
        await eventually(lambda: not alive(relay), timeout=15, what="the orphaned relay to exit")
    finally:
        service.close()
