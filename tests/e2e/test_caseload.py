"""Existing caseloads across the three services: imported matches are real
matches to the matcher, but the scheduler books no first session for them
and the notifier sends no "new assignment" notice (one generic summary per
peer instead), while a match accepted after the import still gets both. The imported references stay out of the
services' logs, the events' bodies and every email and inbox text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alongside.api.matcher.v1 import events_pb2 as mev
from alongside.api.matcher.v1 import matcher_pb2 as mpb
from alongside.api.notifier.v1 import notifier_pb2 as npb
from alongside.api.scheduler.v1 import scheduler_pb2 as spb
from alongside.kit.testing.wait import eventually

from .api import Api
from .cohort import Cohort, key, ts
from .conftest import Settled, Stack
from .observe import EventLog, leaks, of_kind, readable

ASSIGNED, BOOKED, SUMMARY = npb.KIND_ASSIGNMENT_NEW, npb.KIND_SESSION_BOOKED, npb.KIND_CASELOAD_IMPORTED


async def test_imported_matches_book_nothing_and_send_one_summary_per_peer(
    api: Api, stack: Stack, events: EventLog, settled: Settled
) -> None:
    cohort = Cohort()
    old_hand, newcomer = cohort.peer(1, capacity=5), cohort.peer(2)
    await api.enrol(cohort, old_hand, newcomer)
    started = (datetime.now(UTC) - timedelta(days=40)).date().isoformat()
    refs = [f"ref-{cohort.tag}-old{i}" for i in range(4)]
    rows = [(old_hand.peer_id, refs[0]), (old_hand.peer_id, refs[1]), (old_hand.peer_id, refs[2])]
    rows.append((newcomer.peer_id, refs[3]))
    csv = "peer_id,participant_ref,acuity,start_date\n" + "".join(f"{p},{r},1,{started}\n" for p, r in rows)
    request = mpb.ImportCaseloadRequest(idempotency_key=key(), csv=csv.encode())
    reply = await api.matcher("manager").ImportCaseload(request)
    assert (reply.imported, list(reply.errors)) == (4, [])

    # A match accepted after the import: the scheduler and the notifier act on it.
    fresh = await api.submit(cohort.intake("new"))
    match = await api.accept(fresh.request_id, newcomer.peer_id)
    await api.first_session(newcomer.peer_id, match.match_id)
    await api.told(newcomer.peer_id, ASSIGNED, BOOKED, SUMMARY)
    await api.told(old_hand.peer_id, SUMMARY)
    await settled()  # every match event, the imported ones too, handled by every consumer

    imported = [e for e in events.events if e.type == "match.imported" and e.subject in _match_ids(events, cohort)]
    assert len(imported) == 4
    assert await api.sessions(old_hand.peer_id) == []
    # One generic notice per peer for the whole import, none per old match.
    (summary,) = await api.inbox(old_hand.peer_id)
    assert summary.kind == SUMMARY and "match_id" not in summary.refs
    assert summary.body == "Participants you already support were added to your caseload in Alongside."
    (mail,) = [m for m in stack.sink.mails if cohort.email(1) in m.to]
    assert mail.message["Subject"] == "Your caseload was added to Alongside"
    newcomer_inbox = await api.inbox(newcomer.peer_id)
    (assigned,) = of_kind(newcomer_inbox, ASSIGNED)
    assert assigned.refs["match_id"] == match.match_id
    assert len(of_kind(newcomer_inbox, SUMMARY)) == 1
    assert {s.match_id for s in await api.sessions(newcomer.peer_id)} == {match.match_id}

    # Later sessions are booked as for any match; closing the match cancels them.
    one = _match_ids(events, cohort, peer_id=old_hand.peer_id)[0]
    later = spb.BookSessionRequest(
        idempotency_key=key(),
        peer_id=old_hand.peer_id,
        participant_ref=refs[0],
        match_id=one,
        session_type="follow_up",
        start=ts(datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=2)),
    )
    session = (await api.scheduler().BookSession(later)).session
    await api.told(old_hand.peer_id, BOOKED)
    close = mpb.CloseMatchRequest(idempotency_key=key(), match_id=one, reason=mpb.CLOSE_REASON_COMPLETED)
    await api.matcher().CloseMatch(close)

    async def cancelled() -> bool:
        found = {s.session_id: s.status for s in await api.sessions(old_hand.peer_id)}
        return found.get(session.session_id) == spb.SESSION_STATUS_CANCELLED

    await eventually(cancelled, timeout=20, what="the imported match's session cancelled on close")
    await settled()
    assert of_kind(await api.inbox(old_hand.peer_id), ASSIGNED) == []
    peer = (await api.matcher("manager").GetPeer(mpb.GetPeerRequest(peer_id=old_hand.peer_id))).peer
    assert peer.load == 2

    # The references are pseudonymous, but they are the programme's key to a person.
    assert leaks(stack.logs(), refs) == []
    for event in imported:
        assert leaks(event.body.decode("latin-1") + str(event.headers()), refs) == []
    for mail in stack.sink.mails:
        assert leaks(readable(mail), refs) == []
    for peer_id in (old_hand.peer_id, newcomer.peer_id):
        for item in await api.inbox(peer_id):
            assert leaks(item.title + item.body, refs) == []


def _match_ids(events: EventLog, cohort: Cohort, peer_id: str = "") -> list[str]:
    """The cohort's imported match ids (of one peer, if given), in import order."""
    bodies = events.of("match.imported", mev.MatchImported)
    mine = [b for b in bodies if b.peer_id.startswith(f"peer-{cohort.tag}-") and (not peer_id or b.peer_id == peer_id)]
    return [b.match_id for b in mine]
