from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from nats.js import JetStreamContext

from alongside.api.common.v1 import types_pb2
from alongside.api.matcher.v1 import events_pb2 as matcher_ev
from alongside.api.matcher.v1 import matcher_pb2 as matcher_pb
from alongside.api.scheduler.v1 import scheduler_pb2 as pb
from alongside.api.scheduler.v1 import scheduler_pb2_grpc
from alongside.kit.events.envelope import Event
from alongside.kit.events.streams import CATALOGUE, stream_name
from alongside.kit.runtime import Runtime
from alongside.kit.testing.auth import TEST_AUTH, channel
from alongside.kit.testing.wait import eventually
from alongside.scheduler.bootstrap import build
from alongside.scheduler.settings import SchedulerSettings

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)  # a Monday, before the US and EU clock changes


def window(day: int, start_hour: float, end_hour: float) -> types_pb2.WeeklyWindow:
    """ISO day (Monday = 1) and local hours."""
    return types_pb2.WeeklyWindow(
        day=day,
        start_minute=int(start_hour * 60),
        end_minute=int(end_hour * 60),  # type: ignore[arg-type]
    )


WEEKDAYS_9_17 = [window(d, 9, 17) for d in range(1, 6)]
EVERY_DAY = [window(d, 0, 24) for d in range(1, 8)]


class Clock:
    """A settable clock shared by the test and the scheduler under test."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


def ts(instant: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(instant)
    return stamp


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@dataclass
class Scheduler:
    runtime: Runtime
    stub: scheduler_pb2_grpc.SchedulerServiceStub
    namespace: str
    clock: Clock
    versions: dict[str, int] = field(default_factory=dict)

    @property
    def js(self) -> JetStreamContext:
        assert self.runtime.deps is not None
        return self.runtime.deps.js

    async def publish(self, kind: str, body: Message, subject: str = "") -> Event:
        event = Event.of(kind, "/alongside/matcher", body, subject=subject)
        await self.js.publish(event.nats_subject(self.namespace), event.body, headers=event.headers())
        return event

    async def peer(
        self,
        peer_id: str,
        tz: str = "America/New_York",
        windows: list[types_pb2.WeeklyWindow] | None = None,
        *,
        status: Any = matcher_pb.PEER_STATUS_ACTIVE,
        wait: bool = True,
    ) -> None:
        """Publish peer.upserted as the matcher would, and wait until the scheduler has it."""
        version = self.versions.get(peer_id, 0) + 1
        self.versions[peer_id] = version
        body = matcher_ev.PeerUpserted(
            peer_id=peer_id, status=status, time_zone=tz, availability=windows or WEEKDAYS_9_17, version=version
        )
        await self.publish("peer.upserted", body, peer_id)
        if wait:
            await self.wait_peer(peer_id, version)

    async def wait_peer(self, peer_id: str, version: int) -> None:
        deps = self.runtime.deps
        assert deps is not None
        key = deps.keys.key(f"peer:{peer_id}", "cal")

        async def arrived() -> bool:
            raw = await deps.redis.hget(key, "av")
            return raw is not None and int(raw) >= version

        await eventually(arrived, what=f"calendar of {peer_id}")

    async def drained(self) -> None:
        deps = self.runtime.deps
        assert deps is not None

        async def empty() -> bool:
            return not [k async for k in deps.redis.scan_iter(match=deps.keys.pattern("outbox"))]

        await eventually(empty, what="outbox drained")

    async def events(self, aggregate: str = "session") -> list[Event]:
        await self.drained()
        return await stream_events(self.js, self.namespace, aggregate)

    async def book(
        self, key: str, peer_id: str = "p1", start: datetime | None = None, **extra: Any
    ) -> pb.BookSessionResponse:
        request = pb.BookSessionRequest(idempotency_key=key, peer_id=peer_id, participant_ref=f"ref-{key}", **extra)
        if start is not None:
            request.start.CopyFrom(ts(start))
        return await self.stub.BookSession(request)  # type: ignore[no-any-return]


async def stream_events(js: JetStreamContext, namespace: str, aggregate: str) -> list[Event]:
    spec = next(s for s in CATALOGUE if s.aggregate == aggregate)
    name = stream_name(namespace, spec)
    info = await js.stream_info(name)
    out: list[Event] = []
    if info.state.messages == 0:
        return out
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        raw = await js.get_msg(name, seq)
        out.append(Event.from_headers(dict(raw.headers or {}), raw.data or b""))
    return out


def settings_for(nats_url: str, redis_url: str, namespace: str, **overrides: Any) -> SchedulerSettings:
    base: dict[str, Any] = {
        **TEST_AUTH,
        "nats_url": nats_url,
        "redis_url": redis_url,
        "namespace": namespace,
        "reminder_poll_seconds": 0.05,
        "consumer_backoff_seconds": 0.05,
        "availability_retry_limit": 3,
        "plan_time_limit_seconds": 2.0,
        # Background loops poll NATS once a second; tests need not wait for that on stop.
        "grace_seconds": 0.3,
    }
    return SchedulerSettings.from_env({}, **{**base, **overrides})


async def start_scheduler(settings: SchedulerSettings, clock: Callable[[], datetime]) -> Runtime:
    runtime = build(settings, clock=clock)
    await runtime.start()
    return runtime


@pytest.fixture
async def scheduler(nats_url: str, redis_url: str, namespace: str) -> AsyncIterator[Scheduler]:
    clock = Clock()
    runtime = await start_scheduler(settings_for(nats_url, redis_url, namespace), clock)
    async with channel(f"127.0.0.1:{runtime.port}") as chan:
        yield Scheduler(runtime, scheduler_pb2_grpc.SchedulerServiceStub(chan), namespace, clock)
    await runtime.stop()


async def rpc_error(call: Any) -> grpc.aio.AioRpcError:
    """Await ``call`` and return the error it must raise."""
    try:
        await call
    except grpc.aio.AioRpcError as exc:
        return exc
    raise AssertionError("the call succeeded but should have failed")
