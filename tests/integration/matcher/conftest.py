from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from nats.js import JetStreamContext

from alongside.api.common.v1 import types_pb2
from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.api.matcher.v1 import matcher_pb2_grpc
from alongside.kit.events.envelope import Event
from alongside.kit.events.streams import CATALOGUE, stream_name
from alongside.kit.runtime import Runtime
from alongside.kit.testing.auth import TEST_AUTH, channel
from alongside.kit.testing.wait import eventually
from alongside.matcher.bootstrap import build
from alongside.matcher.settings import MatcherSettings

NOW = datetime(2027, 3, 3, 15, 0, tzinfo=UTC)  # a Wednesday
MON_FRI_9_17 = [types_pb2.WeeklyWindow(day=d, start_minute=9 * 60, end_minute=17 * 60) for d in range(1, 6)]


@dataclass
class Matcher:
    runtime: Runtime
    stub: matcher_pb2_grpc.MatcherServiceStub
    namespace: str
    keys_made: list[str] = field(default_factory=list)

    @property
    def js(self) -> JetStreamContext:
        assert self.runtime.deps is not None
        return self.runtime.deps.js

    async def drained(self) -> None:
        """Wait until the outbox relay has published everything committed."""
        deps = self.runtime.deps
        assert deps is not None

        async def empty() -> bool:
            pending = [k async for k in deps.redis.scan_iter(match=deps.keys.pattern("outbox"))]
            return not pending

        await eventually(empty, what="outbox drained")

    async def events(self, aggregate: str) -> list[Event]:
        """Every event in the aggregate's stream, oldest first."""
        await self.drained()
        spec = next(s for s in CATALOGUE if s.aggregate == aggregate)
        name = stream_name(self.namespace, spec)
        info = await self.js.stream_info(name)
        out = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            if info.state.messages == 0:
                break
            raw = await self.js.get_msg(name, seq)
            out.append(Event.from_headers(dict(raw.headers or {}), raw.data or b""))
        return out


async def start_matcher(nats_url: str, redis_url: str, namespace: str, clock: Callable[[], datetime]) -> Runtime:
    settings = MatcherSettings.from_env({}, **TEST_AUTH, nats_url=nats_url, redis_url=redis_url, namespace=namespace)
    runtime = build(settings, clock=clock)
    await runtime.start()
    return runtime


@pytest.fixture
async def matcher(nats_url: str, redis_url: str, namespace: str) -> AsyncIterator[Matcher]:
    runtime = await start_matcher(nats_url, redis_url, namespace, lambda: NOW)
    async with channel(f"127.0.0.1:{runtime.port}", role="admin") as chan:
        yield Matcher(runtime, matcher_pb2_grpc.MatcherServiceStub(chan), namespace)
    await runtime.stop()


def peer(peer_id: str, **overrides: object) -> pb.Peer:
    base: dict[str, object] = {
        "peer_id": peer_id,
        "display_name": f"Test Peer {peer_id}",
        "types": [pb.PEER_TYPE_RECOVERY_COACH],
        "languages": ["en"],
        "modalities": [pb.MODALITY_PHONE, pb.MODALITY_VIDEO],
        "service_area": "north",
        "age_groups": [pb.AGE_BAND_ADULT, pb.AGE_BAND_YOUNG_ADULT],
        "time_zone": "America/New_York",
        "availability": MON_FRI_9_17,
        "capacity": 3,
        "status": pb.PEER_STATUS_ACTIVE,
    }
    base.update(overrides)
    return pb.Peer(**base)  # type: ignore[arg-type]


def intake(key: str, **overrides: object) -> pb.SubmitMatchRequestRequest:
    base: dict[str, object] = {
        "idempotency_key": key,
        "participant": pb.Participant(
            participant_ref=f"ref-{key}",
            age_band=pb.AGE_BAND_ADULT,
            time_zone="America/New_York",
            availability=MON_FRI_9_17,
        ),
        "peer_types": [pb.PEER_TYPE_RECOVERY_COACH],
        "urgency": pb.URGENCY_ROUTINE,
        "acuity": 1,
    }
    base.update(overrides)
    return pb.SubmitMatchRequestRequest(**base)  # type: ignore[arg-type]


async def upsert(m: Matcher, *peers: pb.Peer) -> None:
    for p in peers:
        await m.stub.UpsertPeer(pb.UpsertPeerRequest(idempotency_key=f"up-{p.peer_id}-{p.capacity}", peer=p))
