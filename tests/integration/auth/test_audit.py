"""The audit trail: each access appears, nothing can be deleted or purged,
no record holds health details, only managers can read it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from nats.js.errors import APIError

from alongside.api.audit.v1 import audit_pb2, audit_pb2_grpc
from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.api.matcher.v1 import matcher_pb2_grpc
from alongside.kit import redis as kit_redis
from alongside.kit.audit import CALL_TAG
from alongside.kit.events.streams import CATALOGUE, stream_name
from alongside.kit.runtime import Runtime
from alongside.kit.testing.auth import channel
from alongside.kit.testing.wait import eventually

from ..matcher.conftest import NOW, intake, peer, start_matcher

AUDIT = next(s for s in CATALOGUE if s.name == "AUDIT")
CANARY = "canary-health-detail-7f3a"


@pytest.fixture
async def matcher(nats_url: str, redis_url: str, namespace: str) -> AsyncIterator[Runtime]:
    runtime = await start_matcher(nats_url, redis_url, namespace, lambda: NOW)
    yield runtime
    await runtime.stop()


def stubs(runtime: Runtime, role: str, subject: str) -> tuple[grpc.aio.Channel, matcher_pb2_grpc.MatcherServiceStub]:
    chan = channel(f"127.0.0.1:{runtime.port}", role=role, subject=subject)
    return chan, matcher_pb2_grpc.MatcherServiceStub(chan)


async def listed(runtime: Runtime, **filters: str) -> list[audit_pb2.AuditRecord]:
    async with channel(f"127.0.0.1:{runtime.port}", role="manager", subject="m-1") as chan:
        reply = await audit_pb2_grpc.AuditServiceStub(chan).ListAuditRecords(
            audit_pb2.ListAuditRecordsRequest(**filters)
        )
    return list(reply.records)


async def records(runtime: Runtime, at_least: int = 1, **filters: str) -> list[audit_pb2.AuditRecord]:
    """The trail once the relay has carried ``at_least`` matching records to it."""
    found: list[audit_pb2.AuditRecord] = []

    async def relayed() -> bool:
        found[:] = await listed(runtime, **filters)
        return len(found) >= at_least

    await eventually(relayed, what=f"{at_least} audit records")
    return found


async def test_each_access_is_recorded_with_who_what_why_and_outcome(matcher: Runtime) -> None:
    manager_chan, manager = stubs(matcher, "manager", "m-1")
    await manager.UpsertPeer(pb.UpsertPeerRequest(idempotency_key="u", peer=peer("p1")))
    staff_chan, staff = stubs(matcher, "intake", "staff-7")
    prefs = pb.Preferences(lived_experience=pb.Preference(values=[CANARY], strength=pb.STRENGTH_PREFERRED))
    submitted = await staff.SubmitMatchRequest(intake("a1", preferences=prefs), metadata=[("x-purpose", "treatment")])
    request_id = submitted.request.request_id
    await staff.GetIntake(pb.GetIntakeRequest(request_id=request_id))
    await staff.AcceptMatch(pb.AcceptMatchRequest(idempotency_key="acc", request_id=request_id, peer_id="p1"))
    peer_chan, as_peer = stubs(matcher, "peer", "p1")
    with pytest.raises(grpc.aio.AioRpcError):
        await as_peer.GetIntake(pb.GetIntakeRequest(request_id=request_id))
    for chan in (manager_chan, staff_chan, peer_chan):
        await chan.close()

    # The stream holds records in the order they were relayed; each has its own time.
    trail = sorted(await records(matcher, 4, object_id=request_id), key=lambda r: r.time.ToNanoseconds())
    seen = [(r.actor, r.role, r.action.rsplit("/", 1)[1], r.outcome) for r in trail]
    assert seen == [
        ("staff-7", "intake", "SubmitMatchRequest", "OK"),
        ("staff-7", "intake", "GetIntake", "OK"),
        ("staff-7", "intake", "AcceptMatch", "OK"),
        ("p1", "peer", "GetIntake", "PERMISSION_DENIED"),
    ]
    assert trail[0].purpose == "treatment" and trail[1].purpose == "operations"
    assert all(r.time.seconds > 0 and r.service == "matcher" and not r.problem for r in trail)
    # Roster upkeep is not participant data and leaves no record.
    assert not [r for r in await records(matcher, 4) if r.action.endswith("UpsertPeer")]


async def test_no_record_holds_health_details(matcher: Runtime, namespace: str) -> None:
    chan, staff = stubs(matcher, "intake", "staff-1")
    prefs = pb.Preferences(pathways=pb.Preference(values=[CANARY], strength=pb.STRENGTH_PREFERRED))
    await staff.SubmitMatchRequest(intake("c1", preferences=prefs))
    await chan.close()
    await records(matcher)
    assert matcher.deps is not None
    js = matcher.deps.js
    name = stream_name(namespace, AUDIT)
    info = await js.stream_info(name)
    assert info.state.messages >= 1
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        raw = await js.get_msg(name, seq)
        assert CANARY.encode() not in (raw.data or b"")
        assert CANARY not in str(raw.headers)


async def test_records_cannot_be_deleted_or_purged(matcher: Runtime, namespace: str) -> None:
    chan, staff = stubs(matcher, "intake", "staff-1")
    await staff.ListWaitlist(pb.ListWaitlistRequest())
    await chan.close()
    await records(matcher)
    assert matcher.deps is not None
    js = matcher.deps.js
    name = stream_name(namespace, AUDIT)
    info = await js.stream_info(name)
    assert info.config.deny_delete and info.config.deny_purge
    with pytest.raises(APIError):
        await js.delete_msg(name, info.state.first_seq)
    with pytest.raises(APIError):
        await js.purge_stream(name)
    assert (await js.stream_info(name)).state.messages == info.state.messages


async def test_only_managers_read_the_trail(matcher: Runtime) -> None:
    for role in ("intake", "peer"):
        async with channel(f"127.0.0.1:{matcher.port}", role=role, subject="x") as chan:
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await audit_pb2_grpc.AuditServiceStub(chan).ListAuditRecords(audit_pb2.ListAuditRecordsRequest())
        assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_calls_that_finish_together_share_one_write_and_every_record_pages_once(matcher: Runtime) -> None:
    chan, staff = stubs(matcher, "intake", "staff-1")
    request_id = (await staff.SubmitMatchRequest(intake("g1"))).request.request_id
    await asyncio.gather(*(staff.GetIntake(pb.GetIntakeRequest(request_id=request_id)) for _ in range(40)))
    await chan.close()
    everything = await records(matcher, 41, object_id=request_id)
    assert matcher.deps is not None
    messages = (await matcher.deps.js.stream_info(stream_name(matcher.settings.namespace, AUDIT))).state.messages
    assert messages < 41, "each record was written on its own: no group commit"

    assert sorted(r.action.rsplit("/", 1)[1] for r in everything) == ["GetIntake"] * 40 + ["SubmitMatchRequest"]
    paged, token = [], ""
    while True:
        async with channel(f"127.0.0.1:{matcher.port}", role="manager", subject="m-1") as manager:
            page = await audit_pb2_grpc.AuditServiceStub(manager).ListAuditRecords(
                audit_pb2.ListAuditRecordsRequest(object_id=request_id, page_size=7, page_token=token)
            )
        paged += page.records
        if not page.next_page_token:
            break
        token = page.next_page_token
    assert [(r.sequence, r.index) for r in paged] == [(r.sequence, r.index) for r in everything]


async def test_a_read_whose_record_cannot_be_written_answers_unavailable(
    matcher: Runtime, redis_admin_url: str
) -> None:
    chan, staff = stubs(matcher, "intake", "staff-1")
    request_id = (await staff.SubmitMatchRequest(intake("u1"))).request.request_id
    assert matcher.deps is not None
    outbox = matcher.deps.outbox.key(CALL_TAG)
    admin = kit_redis.client(redis_admin_url)
    await eventually(lambda: _gone(admin, outbox), what="the relay emptied the outbox")
    await admin.set(outbox, "not a stream")  # the next record cannot be appended
    try:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await staff.GetIntake(pb.GetIntakeRequest(request_id=request_id))
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
        # A call that failed anyway keeps its own answer.
        with pytest.raises(grpc.aio.AioRpcError) as missing:
            await staff.GetIntake(pb.GetIntakeRequest(request_id="req-unknown"))
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    finally:
        await admin.delete(outbox)
        await admin.aclose()
    assert (await staff.GetIntake(pb.GetIntakeRequest(request_id=request_id))).request.request_id == request_id
    await chan.close()


async def _gone(r: Any, key: str) -> bool:
    return not await r.exists(key)
