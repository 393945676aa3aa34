"""42 CFR Part 2 through gRPC: a peer sees participant details only under
active consent, always with the §2.32 notice; otherwise only that the
assignment exists. RevokeConsent publishes one event, idempotently."""

from __future__ import annotations

from datetime import UTC

import grpc
import pytest

from alongside.api.matcher.v1 import events_pb2 as ev
from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.matcher.domain.disclosure import NOTICE

from ..matcher.conftest import Matcher, intake
from ..notifier.harness import FakeClock
from .conftest import assignment_as, consent, matched

REVOKED = "match.consent_revoked"


async def test_peer_sees_details_and_notice_under_active_consent(matcher: Matcher) -> None:
    match = await matched(matcher, "c1", "p-1", consent("assigned-peer"))
    seen = await assignment_as(matcher, match.match_id, "peer", "p-1")
    assert seen.disclosed and seen.reason == ""
    assert seen.notice == NOTICE
    assert seen.participant.participant_ref == "ref-c1"
    assert seen.participant.age_band == pb.AGE_BAND_ADULT
    assert seen.participant.time_zone == "America/New_York"
    assert len(seen.participant.availability) == 5
    assert seen.match_id == match.match_id and seen.status == pb.MATCH_STATUS_ACTIVE
    # A manager reading the same assignment gets the same view.
    assert await assignment_as(matcher, match.match_id, "manager", "m-1") == seen


async def test_programme_recipient_covers_the_assigned_peer(matcher: Matcher) -> None:
    match = await matched(matcher, "c2", "p-1", consent("programme"))
    assert (await assignment_as(matcher, match.match_id, "peer", "p-1")).disclosed


@pytest.mark.parametrize(
    ("given", "reason"),
    [(None, "consent not given"), (consent(), "consent does not name the assigned peer or the programme as recipient")],
)
async def test_without_consent_only_the_assignment_shows(
    matcher: Matcher, given: pb.Consent | None, reason: str
) -> None:
    match = await matched(matcher, "c3", "p-1", given)
    seen = await assignment_as(matcher, match.match_id, "peer", "p-1")
    assert not seen.disclosed and seen.reason == reason
    assert not seen.HasField("participant") and seen.notice == ""
    assert seen.match_id == match.match_id and seen.HasField("accepted_at")


async def test_expired_consent_discloses_nothing(matcher: Matcher, clock: FakeClock) -> None:
    match = await matched(matcher, "c4", "p-1", consent("assigned-peer", days=1))
    assert (await assignment_as(matcher, match.match_id, "peer", "p-1")).disclosed
    clock.advance(days=1)
    seen = await assignment_as(matcher, match.match_id, "peer", "p-1")
    assert (seen.disclosed, seen.reason, seen.HasField("participant")) == (False, "consent expired", False)


async def test_revoked_consent_discloses_nothing_and_publishes_once(matcher: Matcher, clock: FakeClock) -> None:
    match = await matched(matcher, "c5", "p-1", consent("assigned-peer"))
    clock.advance(minutes=5)
    revoke = pb.RevokeConsentRequest(idempotency_key="rv-1", request_id=match.request_id)
    first = await matcher.stub.RevokeConsent(revoke)
    assert first.match_id == match.match_id
    assert first.revoked_at.ToDatetime(tzinfo=UTC) == clock.now
    clock.advance(minutes=5)
    assert await matcher.stub.RevokeConsent(revoke) == first  # replay: the first reply
    again = await matcher.stub.RevokeConsent(
        pb.RevokeConsentRequest(idempotency_key="rv-2", request_id=match.request_id)
    )
    assert again.revoked_at == first.revoked_at  # already revoked: nothing new

    seen = await assignment_as(matcher, match.match_id, "peer", "p-1")
    assert (seen.disclosed, seen.reason, seen.HasField("participant")) == (False, "consent revoked", False)
    published = [e for e in await matcher.events("match") if e.type == REVOKED]
    assert len(published) == 1
    body = published[0].parse(ev.ConsentRevoked)
    assert (body.request_id, body.match_id, body.peer_id) == (match.request_id, match.match_id, "p-1")


async def test_revoked_before_the_match_is_announced_when_it_is_made(matcher: Matcher) -> None:
    await matched(matcher, "warm", "p-2", None)  # the roster has p-2
    submitted = await matcher.stub.SubmitMatchRequest(intake("c6", consent=consent("assigned-peer")))
    request_id = submitted.request.request_id
    early = await matcher.stub.RevokeConsent(pb.RevokeConsentRequest(idempotency_key="rv-6", request_id=request_id))
    assert early.match_id == ""
    accepted = await matcher.stub.AcceptMatch(
        pb.AcceptMatchRequest(idempotency_key="acc-6", request_id=request_id, peer_id="p-2")
    )
    published = [e.parse(ev.ConsentRevoked) for e in await matcher.events("match") if e.type == REVOKED]
    assert [(b.match_id, b.peer_id) for b in published] == [("", ""), (accepted.match.match_id, "p-2")]
    assert not (await assignment_as(matcher, accepted.match.match_id, "peer", "p-2")).disclosed


async def test_another_peer_is_denied(matcher: Matcher) -> None:
    match = await matched(matcher, "c7", "p-1", consent("assigned-peer"))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await assignment_as(matcher, match.match_id, "peer", "p-other")
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "ref-c7" not in (caught.value.details() or "")


async def test_unknown_recipient_is_invalid(matcher: Matcher) -> None:
    bad = consent("assigned-peer", "the-whole-internet")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await matcher.stub.SubmitMatchRequest(intake("c8", consent=bad))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "consent.recipients[1]" in (caught.value.details() or "")


async def test_revoking_an_unknown_request_is_not_found(matcher: Matcher) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await matcher.stub.RevokeConsent(pb.RevokeConsentRequest(idempotency_key="rv-9", request_id="req-missing"))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
