"""The dashboard's aggregates from the real matcher and scheduler, sharing one
NATS and one Valkey: a small journey, then GetProgrammeStats and
GetSessionStats return its counts, hide small cells, refuse other roles and
bad ranges, and carry nothing that names a person (docs/dashboard.md)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from alongside.api.common.v1 import stats_pb2 as st
from alongside.api.matcher.v1 import matcher_pb2 as mpb
from alongside.api.matcher.v1 import matcher_pb2_grpc
from alongside.api.scheduler.v1 import scheduler_pb2 as spb
from alongside.api.scheduler.v1 import scheduler_pb2_grpc
from alongside.kit.runtime import Runtime
from alongside.kit.testing.auth import TEST_AUTH, channel
from alongside.kit.testing.wait import eventually
from alongside.matcher.adapters.stats_facts import read_request
from alongside.matcher.adapters.store import MatcherStore
from alongside.matcher.bootstrap import build as build_matcher
from alongside.matcher.service.stats_backfill import StatsBackfill as MatcherBackfill
from alongside.matcher.settings import MatcherSettings
from alongside.scheduler.adapters.store import SchedulerStore
from alongside.scheduler.bootstrap import build as build_scheduler
from alongside.scheduler.service.stats_backfill import StatsBackfill as SchedulerBackfill
from alongside.scheduler.settings import SchedulerSettings

from ..matcher.conftest import intake, peer
from ..scheduler.conftest import Clock

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)  # a Monday
K = 3
ES = mpb.Preference(values=["es"], strength=mpb.STRENGTH_PREFERRED)
SO = mpb.Preference(values=["so"], strength=mpb.STRENGTH_REQUIRED)
MONDAY = NOW.replace(hour=0)
WEEK = {  # the journey's ISO week, one bucket
    "start": Timestamp(seconds=int(MONDAY.timestamp())),
    "end": Timestamp(seconds=int((MONDAY + timedelta(days=7)).timestamp())),
}


@dataclass
class Services:
    matcher: Runtime
    scheduler: Runtime
    clock: Clock
    channels: list[grpc.aio.Channel] = field(default_factory=list)

    def stub(self, role: str) -> tuple[matcher_pb2_grpc.MatcherServiceStub, scheduler_pb2_grpc.SchedulerServiceStub]:
        m = channel(f"127.0.0.1:{self.matcher.port}", role=role, subject=f"staff-{role}")
        s = channel(f"127.0.0.1:{self.scheduler.port}", role=role, subject=f"staff-{role}")
        self.channels += [m, s]
        return matcher_pb2_grpc.MatcherServiceStub(m), scheduler_pb2_grpc.SchedulerServiceStub(s)


@pytest.fixture
async def services(nats_url: str, redis_url: str, namespace: str) -> AsyncIterator[Services]:
    clock = Clock(NOW)
    common = {**TEST_AUTH, "nats_url": nats_url, "redis_url": redis_url, "namespace": namespace}
    matcher = build_matcher(
        MatcherSettings.from_env({}, **common, stats_min_cell_size=K, erasure_on_request=True), clock=clock
    )
    scheduler = build_scheduler(
        SchedulerSettings.from_env({}, **common, stats_min_cell_size=K, consumer_backoff_seconds=0.2), clock=clock
    )
    await matcher.start()
    await scheduler.start()
    running = Services(matcher, scheduler, clock)
    yield running
    for chan in running.channels:
        await chan.close()
    await scheduler.stop()
    await matcher.stop()


async def first_session(s: scheduler_pb2_grpc.SchedulerServiceStub, match: mpb.Match) -> spb.Session:
    found: list[spb.Session] = []

    async def booked() -> bool:
        page = await s.ListSessions(spb.ListSessionsRequest(peer_id=match.peer_id, page_size=100))
        found[:] = [x for x in page.sessions if x.match_id == match.match_id]
        return bool(found)

    await eventually(booked, timeout=20, what="the first session booked by the scheduler")
    return found[0]


async def test_a_small_journey_shows_in_the_aggregates_and_nothing_names_anyone(services: Services) -> None:
    tag = uuid.uuid4().hex[:8]
    m, s = services.stub("manager")
    canaries = {f"Canary Name {tag}", f"ref-canary-{tag}"}
    peers = [
        peer(f"p1-{tag}", languages=["en", "es"], capacity=5, display_name=f"Canary Name {tag}"),
        peer(f"p2-{tag}", languages=["en", "es"], capacity=5),
        peer(f"p3-{tag}", languages=["en"], capacity=5),
    ]
    for p in peers:
        await m.UpsertPeer(mpb.UpsertPeerRequest(idempotency_key=f"up-{p.peer_id}", peer=p))
    requests = []
    for n in range(6):
        submitted = intake(f"{tag}-{n}", preferences=mpb.Preferences(languages=ES))
        submitted.participant.participant_ref = f"ref-canary-{tag}" if n == 0 else f"ref-{tag}-{n}"
        requests.append((await m.SubmitMatchRequest(submitted)).request)
    waiting = (await m.SubmitMatchRequest(intake(f"{tag}-so", preferences=mpb.Preferences(languages=SO)))).request
    assert waiting.status == mpb.REQUEST_STATUS_WAITLISTED
    matches = []
    for r in requests[:5]:
        accept = mpb.AcceptMatchRequest(
            idempotency_key=f"acc-{r.request_id}", request_id=r.request_id, peer_id=r.candidates[0].peer_id
        )
        matches.append((await m.AcceptMatch(accept)).match)
    firsts = [await first_session(s, match) for match in matches]
    await s.CancelSession(
        spb.CancelSessionRequest(
            idempotency_key=f"c-{tag}",
            session_id=firsts[4].session_id,
            reason=spb.CANCEL_REASON_PARTICIPANT_REQUEST,
            override_notice=True,
        )
    )
    services.clock.advance(timedelta(days=2))
    for n, first in enumerate(firsts[:4]):
        if n < 3:
            await s.MarkAttended(spb.MarkAttendedRequest(idempotency_key=f"a-{n}-{tag}", session_id=first.session_id))
        else:
            await s.MarkNoShow(spb.MarkNoShowRequest(idempotency_key=f"n-{n}-{tag}", session_id=first.session_id))
    await m.CloseMatch(
        mpb.CloseMatchRequest(
            idempotency_key=f"cl-{tag}", match_id=matches[0].match_id, reason=mpb.CLOSE_REASON_COMPLETED
        )
    )

    programme = await m.GetProgrammeStats(mpb.GetProgrammeStatsRequest(**WEEK))
    assert programme.min_cell_size == K and programme.bucket == st.STATS_BUCKET_WEEK
    (week,) = programme.waiting
    assert week.submitted.value == 7 and week.matched.value == 5
    assert week.waiting.suppressed and week.waiting.value == 0  # one "es" and one "so" still wait: 2 < 3
    assert programme.waitlisted_now.count.suppressed  # the "so" intake alone
    (routine,) = programme.time_to_match
    assert routine.urgency == "ROUTINE" and routine.duration.count.value == 5
    assert (programme.caseload.active_peers, programme.caseload.capacity_units) == (3, 15)
    assert programme.caseload.load_units == 4  # five accepted, one closed
    assert [(g.dimension, g.value) for g in programme.equity] == [("language", "es")]  # "so" (1) is left out
    (spanish,) = programme.equity
    assert spanish.requests == 6 and (spanish.matched.value, spanish.preference_met.value) == (5, 5)
    assert (spanish.required.value, spanish.required.suppressed) == (0, False)

    sessions = await s.GetSessionStats(spb.GetSessionStatsRequest(**WEEK))
    (outcomes,) = sessions.sessions
    assert outcomes.attended.value == 3 and not outcomes.attended.suppressed
    assert outcomes.no_show.suppressed and outcomes.cancelled.suppressed  # one each
    assert outcomes.booked.value == 0 and not outcomes.booked.suppressed
    (first,) = sessions.time_to_first_session
    assert first.urgency == "ROUTINE" and first.duration.count.value == 4  # the cancelled one had no session
    assert first.duration.p50_seconds > 0

    await backfill_gives_the_same(services, programme, sessions)

    ids = {p.peer_id for p in peers} | {r.request_id for r in requests} | {x.match_id for x in matches}
    ids |= {f.session_id for f in firsts} | {waiting.request_id}
    for reply in (programme, sessions):
        raw = reply.SerializeToString()
        for planted in canaries | ids:
            assert planted.encode() not in raw, planted


async def backfill_gives_the_same(
    services: Services, programme: mpb.GetProgrammeStatsResponse, sessions: spb.GetSessionStatsResponse
) -> None:
    """Records stored before the dashboard's facts existed: the backfill writes the same facts."""
    m_deps, s_deps = services.matcher.deps, services.scheduler.deps
    assert m_deps is not None and s_deps is not None
    matcher_store, scheduler_store = MatcherStore(m_deps.redis, m_deps.keys), SchedulerStore(s_deps.redis, s_deps.keys)
    k = matcher_store.k
    await m_deps.redis.delete(k.stats_requests, k.stats_tags, k.stats_matches)
    for peer_id in await scheduler_store.members(scheduler_store.k.peers):
        await s_deps.redis.delete(scheduler_store.k.facts(peer_id))
    assert (await MatcherBackfill(matcher_store).once())[0] == 7
    assert await SchedulerBackfill(scheduler_store).once() == 5
    m, s = services.stub("manager")
    assert await m.GetProgrammeStats(mpb.GetProgrammeStatsRequest(**WEEK)) == programme
    assert await s.GetSessionStats(spb.GetSessionStatsRequest(**WEEK)) == sessions


async def test_erasure_deletes_the_stated_languages_and_cultures(services: Services) -> None:
    tag = uuid.uuid4().hex[:8]
    m, _ = services.stub("manager")
    culture = mpb.Preference(values=[f"culture-{tag}"], strength=mpb.STRENGTH_PREFERRED)
    submitted = intake(f"{tag}-e", preferences=mpb.Preferences(languages=SO, cultures=culture))
    request = (await m.SubmitMatchRequest(submitted)).request
    assert m_deps(services) is not None
    store = MatcherStore(m_deps(services).redis, m_deps(services).keys)
    assert f"culture-{tag}".encode() in (await store.r.hget(store.k.stats_tags, request.request_id) or b"")
    erase = mpb.EraseParticipantRequest(
        idempotency_key=f"erase-{tag}",
        participant_ref=submitted.participant.participant_ref,
        reason=mpb.ERASURE_REASON_ON_REQUEST,
    )
    await m.EraseParticipant(erase)
    assert await store.r.hget(store.k.stats_tags, request.request_id) is None
    fact = read_request(await store.r.hget(store.k.stats_requests, request.request_id))
    assert fact.status == mpb.REQUEST_STATUS_ERASED


def m_deps(services: Services) -> Any:
    return services.matcher.deps


@pytest.mark.parametrize("role", ["intake", "peer"])
async def test_only_managers_and_admins_read_the_aggregates(services: Services, role: str) -> None:
    m, s = services.stub(role)
    for call in (m.GetProgrammeStats(mpb.GetProgrammeStatsRequest()), s.GetSessionStats(spb.GetSessionStatsRequest())):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await call
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    admin_m, admin_s = services.stub("admin")
    assert len((await admin_m.GetProgrammeStats(mpb.GetProgrammeStatsRequest())).waiting) == 13
    assert len((await admin_s.GetSessionStats(spb.GetSessionStatsRequest())).sessions) == 13


BAD = [
    ({"end": Timestamp(seconds=10**12)}, "end.seconds"),
    ({"start": Timestamp(seconds=0, nanos=-1)}, "start.nanos"),
    ({"start": Timestamp(seconds=0, nanos=10**9)}, "start.nanos"),
    ({"bucket": 99}, "bucket"),
    ({"start": Timestamp(seconds=10**9), "end": Timestamp(seconds=10**9)}, "end"),
    ({"start": Timestamp(seconds=0), "end": Timestamp(seconds=10**9)}, "end"),
]


@pytest.mark.parametrize(("fields", "named"), BAD)
async def test_bad_ranges_are_refused_naming_the_field(
    services: Services, fields: dict[str, object], named: str
) -> None:
    m, s = services.stub("manager")
    calls = (
        m.GetProgrammeStats(mpb.GetProgrammeStatsRequest(**fields)),  # type: ignore[arg-type]
        s.GetSessionStats(spb.GetSessionStatsRequest(**fields)),
    )  # type: ignore[arg-type]
    for call in calls:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await call
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert named in (refused.value.details() or "")
