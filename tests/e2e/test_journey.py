"""The journey across the three services: intake, shortlist, accept, the first
session booked by the scheduler on its own, the peer told by inbox and email;
a decline; a waiting participant matched by batch once a close frees room."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import grpc
import pytest

from alongside.api.matcher.v1 import events_pb2 as mev
from alongside.api.matcher.v1 import matcher_pb2 as mpb
from alongside.api.notifier.v1 import notifier_pb2 as npb
from alongside.api.scheduler.v1 import scheduler_pb2 as spb
from alongside.kit.testing.wait import eventually

from .api import Api
from .cohort import Cohort, at, key
from .conftest import Stack
from .observe import EventLog, mails, of_kind

ASSIGNED, BOOKED = npb.KIND_ASSIGNMENT_NEW, npb.KIND_SESSION_BOOKED
SPANISH = mpb.Preference(values=["es"], strength=mpb.STRENGTH_PREFERRED)
LEAD = timedelta(minutes=1)  # MIN_LEAD_MINUTES in the stack
GRID = timedelta(minutes=15)  # the default SLOT_STEP_MINUTES


async def test_intake_to_a_booked_first_session_and_a_told_peer(api: Api, stack: Stack) -> None:
    cohort = Cohort()
    spanish, other = cohort.peer(1, languages=["en", "es"]), cohort.peer(2)
    await api.enrol(cohort, spanish, other)

    request = await api.submit(cohort.intake("a", preferences=cohort.preferences(languages=SPANISH)))
    assert request.status == mpb.REQUEST_STATUS_SHORTLISTED
    assert [c.peer_id for c in request.candidates] == [spanish.peer_id, other.peer_id]
    top = request.candidates[0]
    assert any("Spanish" in c.text for c in top.contributions if c.points > 0), top

    before = datetime.now(UTC)
    match = await api.accept(request.request_id, spanish.peer_id)
    session = await api.first_session(spanish.peer_id, match.match_id)
    after = datetime.now(UTC)
    # The earliest slot on the peer's 15-minute grid after the lead time.
    start = at(session.start)
    assert before + LEAD <= start < after + LEAD + GRID
    assert start.second == 0 and start.minute % 15 == 0
    assert (session.participant_ref, session.session_type) == (f"ref-{cohort.tag}-a", "intake")
    assert at(session.end) - start == timedelta(minutes=15)

    await api.told(spanish.peer_id, ASSIGNED, BOOKED)
    items = await api.inbox(spanish.peer_id)
    (assigned,) = of_kind(items, ASSIGNED)
    (booked,) = of_kind(items, BOOKED)
    assert assigned.refs["match_id"] == match.match_id
    # The app opens the session from the inbox item through this id.
    assert booked.refs.get("session_id") == session.session_id
    for kind in (ASSIGNED, BOOKED):
        (mail,) = mails(stack.sink.mails, cohort.email(1), kind)
        assert "Open Alongside to see the details." in mail.text
    assert await api.inbox(other.peer_id) == []
    assert mails(stack.sink.mails, cohort.email(2), ASSIGNED) == []


async def test_a_peer_reads_only_their_own_inbox(api: Api) -> None:
    cohort = Cohort()
    await api.enrol(cohort, cohort.peer(1), cohort.peer(2))
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await api.notifier(cohort.peer_id(2)).ListNotifications(npb.ListNotificationsRequest(peer_id=cohort.peer_id(1)))
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_a_declined_peer_is_left_out_of_the_next_suggestion(api: Api, events: EventLog) -> None:
    cohort = Cohort()
    first, second, third = cohort.peer(1, languages=["en", "es"]), cohort.peer(2), cohort.peer(3)
    await api.enrol(cohort, first, second, third)
    request = await api.submit(cohort.intake("d", preferences=cohort.preferences(languages=SPANISH)))
    assert request.candidates[0].peer_id == first.peer_id

    decline = mpb.DeclineMatchRequest(idempotency_key=key(), request_id=request.request_id, peer_id=first.peer_id)
    fresh = (await api.matcher().DeclineMatch(decline)).request
    assert {c.peer_id for c in fresh.candidates} == {second.peer_id, third.peer_id}
    assert list(fresh.declined_peer_ids) == [first.peer_id]
    stored = (await api.matcher().GetIntake(mpb.GetIntakeRequest(request_id=request.request_id))).request
    assert [c.peer_id for c in stored.candidates] == [c.peer_id for c in fresh.candidates]
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await api.accept(request.request_id, first.peer_id)
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION

    chosen = fresh.candidates[0].peer_id
    match = await api.accept(request.request_id, chosen)
    await api.first_session(chosen, match.match_id)
    await api.told(chosen, ASSIGNED, BOOKED)
    assert await api.inbox(first.peer_id) == []
    await eventually(
        lambda: bool(events.of("match.declined", mev.MatchDeclined, request_id=request.request_id)),
        what="decline event",
    )
    (declined,) = events.of("match.declined", mev.MatchDeclined, request_id=request.request_id)
    assert declined.peer_id == first.peer_id


async def waiting_ids(api: Api) -> set[str]:
    found: set[str] = set()
    token = ""
    while True:
        page = await api.matcher().ListWaitlist(mpb.ListWaitlistRequest(page_size=200, page_token=token))
        found |= {r.request_id for r in page.requests}
        token = page.next_page_token
        if not token:
            return found


async def test_a_waiting_participant_is_matched_by_batch_after_a_close(api: Api, stack: Stack) -> None:
    cohort = Cohort()
    peer = cohort.peer(1, capacity=1)
    await api.enrol(cohort, peer)
    first = await api.submit(cohort.intake("first"))
    old = await api.accept(first.request_id, peer.peer_id)
    old_session = await api.first_session(peer.peer_id, old.match_id)

    waiting = await api.submit(cohort.intake("waiting"))
    assert waiting.status == mpb.REQUEST_STATUS_WAITLISTED
    assert "capacity" in waiting.waitlist_reason.summary.lower()
    assert waiting.request_id in await waiting_ids(api)

    close = mpb.CloseMatchRequest(idempotency_key=key(), match_id=old.match_id, reason=mpb.CLOSE_REASON_COMPLETED)
    await api.matcher().CloseMatch(close)
    manager = api.matcher("manager")
    batch = mpb.RunBatchMatchRequest(idempotency_key=key(), request_ids=[waiting.request_id], time_limit_seconds=5)
    run = (await manager.RunBatchMatch(batch)).run
    assert [(p.request_id, p.peer_id) for p in run.proposals] == [(waiting.request_id, peer.peer_id)]
    confirmed = await manager.ConfirmBatch(mpb.ConfirmBatchRequest(idempotency_key=key(), batch_id=run.batch_id))
    assert not confirmed.failures
    (new,) = confirmed.matches
    assert new.request_id == waiting.request_id

    await api.first_session(peer.peer_id, new.match_id)
    told = (ASSIGNED, ASSIGNED, BOOKED, BOOKED, npb.KIND_MATCH_CLOSED, npb.KIND_SESSION_CANCELLED)
    await api.told(peer.peer_id, *told)
    gone = (await api.scheduler().GetSession(spb.GetSessionRequest(session_id=old_session.session_id))).session
    assert (gone.status, gone.cancel_reason) == (spb.SESSION_STATUS_CANCELLED, spb.CANCEL_REASON_MATCH_CLOSED)
    items = await api.inbox(peer.peer_id)
    assert {n.refs["match_id"] for n in of_kind(items, ASSIGNED)} == {old.match_id, new.match_id}
    assert waiting.request_id not in await waiting_ids(api)
    assert (await manager.GetPeer(mpb.GetPeerRequest(peer_id=peer.peer_id))).peer.load == 1
