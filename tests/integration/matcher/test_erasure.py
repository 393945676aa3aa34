"""Participant erasure in the matcher, against real NATS and Valkey.

Canary values are planted in every free-text field of the participant; after
erasure none is left in any key or value of the matcher's Redis namespace
(read with the admin login) nor in the match stream, while the audit trail
still says who erased what and when.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import grpc
import pytest

from alongside.api.audit.v1 import audit_pb2, audit_pb2_grpc
from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.api.matcher.v1 import matcher_pb2_grpc
from alongside.api.notifier.v1 import events_pb2 as notifier_ev
from alongside.api.scheduler.v1 import events_pb2 as scheduler_ev
from alongside.kit.events.envelope import Event
from alongside.kit.events.streams import CATALOGUE, stream_name
from alongside.kit.runtime import Runtime
from alongside.kit.testing import leaks
from alongside.kit.testing.auth import TEST_AUTH, channel
from alongside.kit.testing.wait import eventually
from alongside.matcher.bootstrap import build
from alongside.matcher.settings import MatcherSettings

from .conftest import NOW, intake, peer

MANAGER = "manager-erin"


@dataclass
class Clock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Running:
    runtime: Runtime
    stub: matcher_pb2_grpc.MatcherServiceStub
    namespace: str
    clock: Clock


Start = Callable[..., Awaitable[Running]]


@pytest.fixture
async def start(nats_url: str, redis_url: str, namespace: str) -> AsyncIterator[Start]:
    made: list[tuple[Runtime, grpc.aio.Channel]] = []

    async def run(**settings: object) -> Running:
        clock = Clock()
        config = MatcherSettings.from_env(
            {}, **TEST_AUTH, nats_url=nats_url, redis_url=redis_url, namespace=namespace, **settings
        )
        runtime = build(config, clock=clock)
        await runtime.start()
        chan = channel(f"127.0.0.1:{runtime.port}", role="manager", subject=MANAGER)
        made.append((runtime, chan))
        return Running(runtime, matcher_pb2_grpc.MatcherServiceStub(chan), namespace, clock)

    yield run
    for runtime, chan in made:
        await chan.close()
        await runtime.stop()


def canaries(tag: str) -> dict[str, str]:
    return {
        "ref": f"ref-cnry{tag}",
        "culture": f"cnryculture{tag}",
        "lived": f"cnrylived{tag}",
        "area": f"cnryarea{tag}",
        "form": f"cnryform{tag}",
        "scope": f"cnryscope{tag}",
    }


def planted(key: str, c: dict[str, str], *, waitlisted: bool = False) -> pb.SubmitMatchRequestRequest:
    """An intake with a canary in each free-text field; ``waitlisted`` requires a
    lived experience nobody shares, so the explanation names it."""
    lived = pb.Preference(values=[c["lived"]], strength=pb.STRENGTH_PREFERRED)
    if waitlisted:
        lived.strength = pb.STRENGTH_REQUIRED
    submitted = intake(
        key,
        preferences=pb.Preferences(
            cultures=pb.Preference(values=[c["culture"]], strength=pb.STRENGTH_PREFERRED), lived_experience=lived
        ),
        consent=pb.Consent(scope=c["scope"], recipients=["assigned-peer"], form_ref=c["form"]),
    )
    submitted.participant.participant_ref = c["ref"]
    submitted.participant.service_area = c["area"]
    return submitted


async def redis_leaks(redis_admin_url: str, namespace: str, values: list[str]) -> list[str]:
    return await leaks.redis_leaks(redis_admin_url, f"{namespace}:*", values)


async def stream_leaks(running: Running, values: list[str]) -> list[str]:
    deps = running.runtime.deps
    assert deps is not None
    return await leaks.stream_leaks(deps.js, running.namespace, values)


async def publish_confirmation(running: Running, aggregate: str, erasure_id: str) -> None:
    deps = running.runtime.deps
    assert deps is not None
    body = (
        scheduler_ev.ErasureConfirmed(erasure_id=erasure_id)
        if aggregate == "session"
        else notifier_ev.ErasureConfirmed(erasure_id=erasure_id)
    )
    event = Event.of(f"{aggregate}.erasure_confirmed", f"/test/{aggregate}", body, subject=erasure_id)
    await deps.js.publish(event.nats_subject(running.namespace), event.body, headers=event.headers())


async def dead_letter_copy(running: Running, durable: str, event_type: str) -> None:
    """What the kit's consumer does with an event it gives up on: a copy in DLQ."""
    deps = running.runtime.deps
    assert deps is not None
    subject = f"{running.namespace}.{event_type}"
    name = stream_name(running.namespace, next(s for s in CATALOGUE if s.aggregate == event_type.split(".")[0]))
    original = await deps.js.get_last_msg(name, subject)
    headers = {
        **(original.headers or {}),
        "Nats-Msg-Id": f"dlq:{durable}:{uuid.uuid4().hex}",
        "alongside-dlq-consumer": durable,
        "alongside-dlq-subject": subject,
    }
    await deps.js.publish(f"{running.namespace}.dlq.{durable}", original.data or b"", headers=headers)


async def erased_events(running: Running) -> int:
    deps = running.runtime.deps
    assert deps is not None
    name = stream_name(running.namespace, next(s for s in CATALOGUE if s.name == "MATCH"))
    info = await deps.js.stream_info(name, subjects_filter=f"{running.namespace}.match.participant_erased")
    return sum((info.state.subjects or {}).values())


async def drained(m: Running) -> None:
    deps = m.runtime.deps
    assert deps is not None

    async def empty() -> bool:
        return not [k async for k in deps.redis.scan_iter(match=deps.keys.pattern("outbox"))]

    await eventually(empty, what="outbox relayed")


async def matched_and_closed(m: Running, c: dict[str, str], key: str) -> tuple[str, str]:
    request_id = (await m.stub.SubmitMatchRequest(planted(key, c))).request.request_id
    accept = pb.AcceptMatchRequest(idempotency_key=f"{key}-a", request_id=request_id, peer_id="p1")
    match = (await m.stub.AcceptMatch(accept)).match
    await m.stub.CloseMatch(
        pb.CloseMatchRequest(idempotency_key=f"{key}-c", match_id=match.match_id, reason=pb.CLOSE_REASON_COMPLETED)
    )
    return request_id, match.match_id


async def test_erasure_on_request_leaves_ids_only_and_every_service_confirms(
    start: Start, redis_admin_url: str
) -> None:
    m: Running = await start(erasure_on_request=True)
    tag = uuid.uuid4().hex[:8]
    c = canaries(tag)
    await m.stub.UpsertPeer(pb.UpsertPeerRequest(idempotency_key="up", peer=peer("p1")))
    first, match_id = await matched_and_closed(m, c, f"k1{tag}")
    waiting = (await m.stub.SubmitMatchRequest(planted(f"k2{tag}", c, waitlisted=True))).request
    assert waiting.status == pb.REQUEST_STATUS_WAITLISTED
    assert c["lived"] in waiting.waitlist_reason.SerializeToString().decode(errors="replace")

    async def relayed() -> bool:
        return bool(await stream_leaks(m, [c["ref"]]))

    await eventually(relayed, what="match.accepted (with the reference) in the stream before erasure")
    await dead_letter_copy(m, "scheduler-match", "match.accepted")

    erase = pb.EraseParticipantRequest(idempotency_key=f"e{tag}", participant_ref=c["ref"])
    erasure = (await m.stub.EraseParticipant(erase)).erasure
    assert sorted(erasure.request_ids) == sorted([first, waiting.request_id])
    assert list(erasure.match_ids) == [match_id]
    assert erasure.reason == pb.ERASURE_REASON_ON_REQUEST and erasure.requested_by == MANAGER
    assert c["ref"] not in str(erasure)

    # No read path returns the data; ids and dates remain.
    for request_id in (first, waiting.request_id):
        state = (await m.stub.GetIntake(pb.GetIntakeRequest(request_id=request_id))).request
        assert state.status == pb.REQUEST_STATUS_ERASED and state.HasField("created_at")
        assert not state.candidates and not state.HasField("waitlist_reason")
    match = (await m.stub.GetMatch(pb.GetMatchRequest(match_id=match_id))).match
    assert match.participant_ref == "" and match.peer_id == "p1" and match.HasField("closed_at")
    listed = (await m.stub.ListWaitlist(pb.ListWaitlistRequest())).requests
    assert waiting.request_id not in [r.request_id for r in listed]
    every_status = [pb.REQUEST_STATUS_SHORTLISTED, pb.REQUEST_STATUS_WAITLISTED, pb.REQUEST_STATUS_MATCHED,
                    pb.REQUEST_STATUS_WITHDRAWN, pb.REQUEST_STATUS_PROPOSED]
    found = (await m.stub.ListMatchRequests(pb.ListMatchRequestsRequest(statuses=every_status))).requests
    assert {first, waiting.request_id}.isdisjoint(r.request_id for r in found)  # erased requests leave the lists
    view = (await m.stub.GetAssignment(pb.GetAssignmentRequest(match_id=match_id))).assignment
    assert not view.disclosed and not view.HasField("participant")

    # The matcher scrubs its share (Redis and its stream) and confirms by itself.
    async def matcher_confirmed() -> bool:
        got = (await m.stub.GetErasure(pb.GetErasureRequest(erasure_id=erasure.erasure_id))).erasure
        return [x.service for x in got.confirmations] == ["matcher"]

    await eventually(matcher_confirmed, what="the matcher's own confirmation")
    values = list(c.values())
    assert await redis_leaks(redis_admin_url, m.namespace, values) == []
    assert await stream_leaks(m, values) == []

    # A replay of the RPC answers the same erasure and emits nothing new.
    again = (await m.stub.EraseParticipant(erase)).erasure
    assert again.erasure_id == erasure.erasure_id
    assert await erased_events(m) == 1
    # So does a second erasure of the same participant under another key: nothing is left.
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await m.stub.EraseParticipant(pb.EraseParticipantRequest(idempotency_key=f"x{tag}", participant_ref=c["ref"]))
    assert info.value.code() == grpc.StatusCode.NOT_FOUND

    # The other services confirm on their own subjects; a repeat changes nothing.
    for aggregate in ("session", "notification", "session"):
        await publish_confirmation(m, aggregate, erasure.erasure_id)

    async def complete() -> bool:
        got = (await m.stub.GetErasure(pb.GetErasureRequest(erasure_id=erasure.erasure_id))).erasure
        return got.complete

    await eventually(complete, what="every service confirmed")
    done = (await m.stub.GetErasure(pb.GetErasureRequest(erasure_id=erasure.erasure_id))).erasure
    assert sorted(x.service for x in done.confirmations) == ["matcher", "notifier", "scheduler"]
    assert all(x.HasField("confirmed_at") for x in done.confirmations)

    # The audit trail still says who erased what, and when.
    async with channel(f"127.0.0.1:{m.runtime.port}", role="manager", subject="auditor") as chan:
        reply = await audit_pb2_grpc.AuditServiceStub(chan).ListAuditRecords(
            audit_pb2.ListAuditRecordsRequest(object_id=erasure.erasure_id)
        )
    erased = [r for r in reply.records if r.action.endswith("/EraseParticipant")]
    assert erased and erased[0].actor == MANAGER and erased[0].outcome == "OK" and erased[0].HasField("time")


async def test_erasure_on_request_is_refused_where_the_programme_does_not_permit_it(
    start: Start,
) -> None:
    m: Running = await start()
    await m.stub.SubmitMatchRequest(intake("kept"))
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await m.stub.EraseParticipant(pb.EraseParticipantRequest(idempotency_key="e", participant_ref="ref-kept"))
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "ERASURE_ON_REQUEST" in (info.value.details() or "")
    # Managers and admins only: intake staff may not erase, whatever the policy.
    async with channel(f"127.0.0.1:{m.runtime.port}", role="intake", subject="staff-1") as chan:
        with pytest.raises(grpc.aio.AioRpcError) as denied:
            await matcher_pb2_grpc.MatcherServiceStub(chan).EraseParticipant(
                pb.EraseParticipantRequest(idempotency_key="e2", participant_ref="ref-kept")
            )
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_an_active_match_must_be_closed_first_and_nothing_is_erased(start: Start) -> None:
    m: Running = await start(erasure_on_request=True)
    await m.stub.UpsertPeer(pb.UpsertPeerRequest(idempotency_key="up", peer=peer("p1")))
    request_id = (await m.stub.SubmitMatchRequest(intake("act"))).request.request_id
    await m.stub.AcceptMatch(pb.AcceptMatchRequest(idempotency_key="a", request_id=request_id, peer_id="p1"))
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await m.stub.EraseParticipant(pb.EraseParticipantRequest(idempotency_key="e", participant_ref="ref-act"))
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    state = (await m.stub.GetIntake(pb.GetIntakeRequest(request_id=request_id))).request
    assert state.status == pb.REQUEST_STATUS_MATCHED


async def test_the_sweep_erases_participants_once_retention_has_run_out(start: Start, redis_admin_url: str) -> None:
    m: Running = await start(retention_days=30.0, erasure_sweep_seconds=0.1)
    tag = uuid.uuid4().hex[:8]
    old, young = canaries(tag + "o"), canaries(tag + "y")
    await m.stub.UpsertPeer(pb.UpsertPeerRequest(idempotency_key="up", peer=peer("p1")))
    old_request, _ = await matched_and_closed(m, old, f"o{tag}")  # closed at NOW
    m.clock.now = NOW + timedelta(days=20)
    young_request, _ = await matched_and_closed(m, young, f"y{tag}")  # closed 20 days later

    async def status(request_id: str) -> int:
        return int((await m.stub.GetIntake(pb.GetIntakeRequest(request_id=request_id))).request.status)

    m.clock.now = NOW + timedelta(days=31)

    async def erased() -> bool:
        return await status(old_request) == pb.REQUEST_STATUS_ERASED

    await eventually(erased, what="the sweep erased the participant past retention")
    await drained(m)
    assert await redis_leaks(redis_admin_url, m.namespace, list(old.values())) == []

    async def scrubbed() -> bool:
        return await stream_leaks(m, list(old.values())) == []

    await eventually(scrubbed, what="the old participant's match.accepted deleted from the stream")
    # The same pass saw the younger participant and kept them: 11 days since their match closed.
    assert await status(young_request) == pb.REQUEST_STATUS_MATCHED
    assert await redis_leaks(redis_admin_url, m.namespace, [young["ref"]]) != []
