"""Intake through gRPC: shortlist, waiting list, decline, accept, close."""

from __future__ import annotations

import grpc
import pytest

from alongside.api.matcher.v1 import events_pb2 as ev
from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.kit.testing.wait import eventually

from .conftest import Matcher, intake, peer, upsert


async def test_shortlist_ranks_and_explains(matcher: Matcher) -> None:
    await upsert(matcher, peer("p-es", languages=["en", "es"]), peer("p-en"), peer("p-far", time_zone="Asia/Tokyo"))
    prefs = pb.Preferences(languages=pb.Preference(values=["es"], strength=pb.STRENGTH_PREFERRED))
    reply = await matcher.stub.SubmitMatchRequest(intake("i1", preferences=prefs))
    request = reply.request
    assert request.status == pb.REQUEST_STATUS_SHORTLISTED
    ids = [c.peer_id for c in request.candidates]
    assert ids[:2] == ["p-es", "p-en"]  # the Spanish speaker first
    assert "p-far" not in ids  # no shared hours with a Tokyo peer's 9-5
    top = request.candidates[0]
    language = next(c for c in top.contributions if c.criterion == "language")
    assert language.points > 0 and "Spanish" in language.text
    assert top.score == pytest.approx(sum(c.points for c in top.contributions), abs=1e-3)
    events = await matcher.events("match")
    assert [e.type for e in events] == ["match.requested", "match.shortlisted"]
    assert events[1].parse(ev.MatchShortlisted).candidate_count == 2


async def test_nobody_fits_waitlists_with_the_emptying_constraint(matcher: Matcher) -> None:
    await upsert(matcher, peer("p1"), peer("p2"), peer("p3", capacity=0))
    prefs = pb.Preferences(languages=pb.Preference(values=["so"], strength=pb.STRENGTH_REQUIRED))
    request = (await matcher.stub.SubmitMatchRequest(intake("i2", preferences=prefs))).request
    assert request.status == pb.REQUEST_STATUS_WAITLISTED
    assert not request.candidates
    assert "Somali" in request.waitlist_reason.summary
    language_step = next(c for c in request.waitlist_reason.funnel if c.remaining == 0)
    assert language_step.constraint == "language"
    waitlisted = [e for e in await matcher.events("match") if e.type == "match.waitlisted"]
    body = waitlisted[0].parse(ev.MatchWaitlisted)
    assert body.constraint == "language"  # the constraint, never the participant's value
    assert b"so" not in waitlisted[0].body
    listed = await matcher.stub.ListWaitlist(pb.ListWaitlistRequest())
    assert [r.request_id for r in listed.requests] == [request.request_id]


async def test_full_peers_waitlist_on_capacity(matcher: Matcher) -> None:
    await upsert(matcher, peer("p1", capacity=1))
    first = (await matcher.stub.SubmitMatchRequest(intake("a"))).request
    await matcher.stub.AcceptMatch(
        pb.AcceptMatchRequest(idempotency_key="acc", request_id=first.request_id, peer_id="p1")
    )
    second = (await matcher.stub.SubmitMatchRequest(intake("b"))).request
    assert second.status == pb.REQUEST_STATUS_WAITLISTED
    assert second.waitlist_reason.summary.lower().startswith("capacity")


async def test_accept_reserves_capacity_and_publishes(matcher: Matcher) -> None:
    await upsert(matcher, peer("p1", capacity=3))
    request = (await matcher.stub.SubmitMatchRequest(intake("i3", acuity=2))).request
    accept = pb.AcceptMatchRequest(idempotency_key="acc-1", request_id=request.request_id, peer_id="p1")
    match = (await matcher.stub.AcceptMatch(accept)).match
    assert match.status == pb.MATCH_STATUS_ACTIVE and match.acuity == 2
    assert (await matcher.stub.GetPeer(pb.GetPeerRequest(peer_id="p1"))).peer.load == 2
    assert (
        await matcher.stub.GetIntake(pb.GetIntakeRequest(request_id=request.request_id))
    ).request.match_id == match.match_id
    accepted = [e for e in await matcher.events("match") if e.type == "match.accepted"]
    body = accepted[0].parse(ev.MatchAccepted)
    assert (body.match_id, body.peer_id, body.participant_time_zone) == (match.match_id, "p1", "America/New_York")
    assert len(body.participant_availability) == 5
    # A second accept of the same request is refused.
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await matcher.stub.AcceptMatch(
            pb.AcceptMatchRequest(idempotency_key="acc-2", request_id=request.request_id, peer_id="p1")
        )
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION


async def test_replaying_an_idempotency_key_returns_the_first_result_and_publishes_nothing(matcher: Matcher) -> None:
    await upsert(matcher, peer("p1"))
    req = intake("same-key")
    first = await matcher.stub.SubmitMatchRequest(req)
    before = len(await matcher.events("match"))
    again = await matcher.stub.SubmitMatchRequest(req)
    assert again == first
    accept = pb.AcceptMatchRequest(idempotency_key="acc", request_id=first.request.request_id, peer_id="p1")
    m1 = await matcher.stub.AcceptMatch(accept)
    after_accept = len(await matcher.events("match"))
    m2 = await matcher.stub.AcceptMatch(accept)
    assert m1 == m2
    assert before == 2 and after_accept == 3
    assert len(await matcher.events("match")) == 3
    assert (await matcher.stub.GetPeer(pb.GetPeerRequest(peer_id="p1"))).peer.load == 1
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await matcher.stub.SubmitMatchRequest(intake("same-key", acuity=3))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "idempotency_key" in (info.value.details() or "")


async def test_decline_leaves_the_peer_out_of_the_next_suggestion(matcher: Matcher) -> None:
    await upsert(matcher, peer("p1"), peer("p2"))
    request = (await matcher.stub.SubmitMatchRequest(intake("i4"))).request
    top = request.candidates[0].peer_id
    declined = (
        await matcher.stub.DeclineMatch(
            pb.DeclineMatchRequest(idempotency_key="d1", request_id=request.request_id, peer_id=top)
        )
    ).request
    assert top not in [c.peer_id for c in declined.candidates]
    assert list(declined.declined_peer_ids) == [top]
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await matcher.stub.AcceptMatch(
            pb.AcceptMatchRequest(idempotency_key="a", request_id=request.request_id, peer_id=top)
        )
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    types = [e.type for e in await matcher.events("match")]
    assert types == ["match.requested", "match.shortlisted", "match.declined", "match.shortlisted"]


async def test_close_releases_capacity_and_rematches_the_waiting_list(matcher: Matcher) -> None:
    await upsert(matcher, peer("p1", capacity=1))
    first = (await matcher.stub.SubmitMatchRequest(intake("c1"))).request
    match = (
        await matcher.stub.AcceptMatch(
            pb.AcceptMatchRequest(idempotency_key="a1", request_id=first.request_id, peer_id="p1")
        )
    ).match
    waiting = (await matcher.stub.SubmitMatchRequest(intake("c2"))).request
    assert waiting.status == pb.REQUEST_STATUS_WAITLISTED
    closed = await matcher.stub.CloseMatch(
        pb.CloseMatchRequest(idempotency_key="cl", match_id=match.match_id, reason=pb.CLOSE_REASON_COMPLETED)
    )
    assert closed.match.status == pb.MATCH_STATUS_CLOSED
    assert (await matcher.stub.GetPeer(pb.GetPeerRequest(peer_id="p1"))).peer.load == 0

    async def shortlisted() -> bool:
        got = await matcher.stub.GetIntake(pb.GetIntakeRequest(request_id=waiting.request_id))
        return got.request.status == pb.REQUEST_STATUS_SHORTLISTED

    await eventually(shortlisted, what="the waiting request is re-shortlisted")
    assert not (await matcher.stub.ListWaitlist(pb.ListWaitlistRequest())).requests
    closed_events = [e for e in await matcher.events("match") if e.type == "match.closed"]
    assert closed_events[0].parse(ev.MatchClosed).reason == pb.CLOSE_REASON_COMPLETED
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await matcher.stub.CloseMatch(pb.CloseMatchRequest(idempotency_key="cl2", match_id=match.match_id, reason=1))
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
