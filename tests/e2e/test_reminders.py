"""Reminders across the services: a rescheduled session is reminded once, at
its new time, and never at the old one; a cancelled session never.

The stack reminds one minute ahead (REMINDER_OFFSETS_MINUTES=1) and allows
bookings one minute ahead (MIN_LEAD_MINUTES=1), so a session booked
``LEAD + MARGIN`` from now is reminded ``MARGIN`` from now: time enough to
change it first, short enough to wait for. The participant of each match is
free only tomorrow, so the first session the scheduler books on its own is
far away; staff then book a check-in for today, which is what gets moved or
cancelled.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alongside.api.notifier.v1 import notifier_pb2 as npb
from alongside.api.scheduler.v1 import events_pb2 as sev
from alongside.api.scheduler.v1 import scheduler_pb2 as spb
from alongside.kit.testing.wait import eventually

from .api import Api
from .cohort import Cohort, at, key, ts
from .conftest import Stack
from .observe import EventLog, mails, of_kind

LEAD = timedelta(minutes=1)
MARGIN = timedelta(seconds=12)
STEP = timedelta(seconds=5)
REMINDER = npb.KIND_SESSION_REMINDER
REMINDER_DUE = "session.reminder_due"


def soon() -> datetime:
    return (datetime.now(UTC) + LEAD + MARGIN).replace(microsecond=0)


async def matched_with_first_session_tomorrow(api: Api, cohort: Cohort, n: int) -> tuple[str, str]:
    """The journey up to the first session, which lands tomorrow; returns the match and participant."""
    peer_id = cohort.peer_id(n)
    request = await api.submit(cohort.intake(f"p{n}", availability=cohort.tomorrow_only()))
    match = await api.accept(request.request_id, peer_id)
    first = await api.first_session(peer_id, match.match_id)
    assert at(first.start) - datetime.now(UTC) > timedelta(hours=2)
    return match.match_id, f"ref-{cohort.tag}-p{n}"


async def check_in(api: Api, peer_id: str, ref: str, start: datetime, match_id: str = "") -> spb.Session:
    """Staff book a short check-in at an explicit time."""
    request = spb.BookSessionRequest(
        idempotency_key=key(),
        peer_id=peer_id,
        participant_ref=ref,
        match_id=match_id,
        session_type="check_in",
        duration_minutes=15,
        start=ts(start),
    )
    return (await api.scheduler().BookSession(request)).session


def reminders_of(events: EventLog, session_id: str) -> list[sev.SessionReminderDue]:
    return events.of(REMINDER_DUE, sev.SessionReminderDue, session_id=session_id)


async def test_a_rescheduled_session_is_reminded_at_its_new_time_only(api: Api, stack: Stack, events: EventLog) -> None:
    cohort = Cohort()
    await api.enrol(cohort, cohort.peer(1))
    peer_id = cohort.peer_id(1)
    match_id, ref = await matched_with_first_session_tomorrow(api, cohort, 1)

    session = await check_in(api, peer_id, ref, soon(), match_id)
    moved_to = at(session.start) + STEP
    move = spb.RescheduleSessionRequest(
        idempotency_key=key(), session_id=session.session_id, new_start=ts(moved_to), override_notice=True
    )
    (moved,) = (await api.scheduler().RescheduleSession(move)).sessions
    assert at(moved.start) == moved_to

    # The new reminder falls due after the old one would have, so once it is
    # here the old one had its chance to fire.
    await eventually(lambda: bool(reminders_of(events, session.session_id)), timeout=60, what="the new reminder")
    (fired,) = reminders_of(events, session.session_id)
    assert fired.reminder_id == f"{session.session_id}:1m:{moved.sequence}"
    assert (at(fired.start), fired.offset_minutes) == (moved_to, 1)

    kinds = (npb.KIND_SESSION_BOOKED, npb.KIND_SESSION_BOOKED, npb.KIND_SESSION_RESCHEDULED, REMINDER)
    await api.told(peer_id, *kinds)
    items = await api.inbox(peer_id)
    assert len(of_kind(items, npb.KIND_SESSION_RESCHEDULED)) == 1
    assert len(of_kind(items, REMINDER)) == 1
    assert len(mails(stack.sink.mails, cohort.email(1), REMINDER)) == 1
    assert len(mails(stack.sink.mails, cohort.email(1), npb.KIND_SESSION_RESCHEDULED)) == 1


async def test_a_cancelled_session_is_never_reminded(api: Api, stack: Stack, events: EventLog) -> None:
    cohort = Cohort()
    await api.enrol(cohort, cohort.peer(1), cohort.peer(2))
    peer_id, witness = cohort.peer_id(1), cohort.peer_id(2)
    match_id, ref = await matched_with_first_session_tomorrow(api, cohort, 1)
    await eventually(lambda: api.knows_calendar(witness), what="the witness's calendar at the scheduler")

    start = soon()
    doomed = await check_in(api, peer_id, ref, start, match_id)
    # Another peer's session, reminded a little later: once its reminder is
    # out, the cancelled one's due time has passed too.
    control = await check_in(api, witness, f"ref-{cohort.tag}-witness", start + STEP)
    cancel = spb.CancelSessionRequest(
        idempotency_key=key(),
        session_id=doomed.session_id,
        reason=spb.CANCEL_REASON_PARTICIPANT_REQUEST,
        override_notice=True,
    )
    await api.scheduler().CancelSession(cancel)

    await eventually(lambda: bool(reminders_of(events, control.session_id)), timeout=60, what="the control reminder")
    assert reminders_of(events, doomed.session_id) == []
    await api.told(witness, REMINDER)
    kinds = (npb.KIND_SESSION_BOOKED, npb.KIND_SESSION_BOOKED, npb.KIND_SESSION_CANCELLED)
    await api.told(peer_id, *kinds)
    assert of_kind(await api.inbox(peer_id), REMINDER) == []
    assert mails(stack.sink.mails, cohort.email(1), REMINDER) == []
