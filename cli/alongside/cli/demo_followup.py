"""Demo steps 4-7: what the other services did on their own, a close, and a batch.

The scheduler and notifier react to events, so these steps wait (up to
``--wait`` seconds) for their results to show through the gRPC APIs.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.api.notifier.v1 import notifier_pb2 as npb
from alongside.api.scheduler.v1 import scheduler_pb2 as spb
from alongside.cli.batch import run_batch, show_run
from alongside.cli.demo_journey import Journey
from alongside.cli.demo_mail import sink_emails
from alongside.cli.notifications import show_inbox
from alongside.cli.views import peer_names, show_matches, show_sessions

T = TypeVar("T")
SINK_VARIABLE = "ALONGSIDE_SMTP_SINK_DIR"


def wait_for(fetch: Callable[[], T | None], wait_s: float, every_s: float = 0.25) -> T | None:
    """Ask again until ``fetch`` gives an answer or the time is up."""
    deadline = time.monotonic() + wait_s
    while True:
        found = fetch()
        if found is not None or time.monotonic() >= deadline:
            return found
        time.sleep(every_s)


def _sessions(j: Journey, match: pb.Match) -> list[spb.Session]:
    request = spb.ListSessionsRequest(peer_id=match.peer_id, participant_ref=match.participant_ref)
    found = j.s.clients.scheduler.call("ListSessions", request).sessions
    return [x for x in found if x.match_id == match.match_id]


def session_booked(j: Journey) -> None:
    j.step(
        4,
        "The scheduler books the first session",
        "Nobody asked it to: the scheduler heard `match.accepted`"
        " and booked the earliest hour both the peer and the participant can make, in their own time zones.",
    )
    if not j.accepted:
        j.s.out.text("No match was accepted, so there is nothing to book.")
        return
    _, match = j.accepted[0]
    found = wait_for(lambda: _sessions(j, match) or None, j.wait_s)
    if found:
        show_sessions(j.s.out, f"Sessions of match {match.match_id}", found)
        j.s.out.hint(f"Calendar: alongside calendar export {match.peer_id} > peer.ics")
    else:
        j.s.out.text(
            f"No session after {j.wait_s:.0f}s: the scheduler may not share hours between them;"
            f" try `alongside plan week` or `alongside sessions list --peer {match.peer_id}` later."
        )
    j.facts["first_session_booked"] = bool(found)


def notifications(j: Journey) -> None:
    j.step(
        5,
        "The peer is told",
        "The notifier heard the same events and put generic messages (no names, no health"
        " details) in the peer's inbox, and by email for peers who asked for it.",
    )
    if not j.accepted:
        return
    peer_id = j.accepted[0][1].peer_id
    wanted = 2 if j.facts.get("first_session_booked") else 1

    latest: list[npb.Notification] = []

    def inbox() -> list[npb.Notification] | None:
        # Wait for the state the table shows: every item there, every delivery settled
        # (not "email pending" while the mail has already arrived).
        request = npb.ListNotificationsRequest(peer_id=peer_id, page_size=20)
        latest[:] = j.s.clients.notifier.call("ListNotifications", request).notifications
        return list(latest) if len(latest) >= wanted and not _pending(latest) else None

    items = wait_for(inbox, j.wait_s) or list(latest)
    show_inbox(j.s.out, f"Inbox of {peer_id}", items)
    if _pending(items):
        j.s.out.hint(
            f"Some deliveries were still pending after {j.wait_s:.0f}s; see them later with:"
            f" alongside notifications list {peer_id}"
        )
    j.facts["inbox_items"] = len(items)
    j.facts["inbox_pending_deliveries"] = _pending(items)
    _emails(j)


def _pending(items: list[npb.Notification]) -> int:
    return sum(d.status == npb.DELIVERY_STATUS_PENDING for n in items for d in n.deliveries)


def _emails(j: Journey) -> None:
    # `make run` files the local sink's mail under var/mail (its endpoints.json says where).
    stack = j.s.config.found.stack
    stack_mail = str((stack.endpoints or {}).get("mail_dir", "")) if stack is not None else ""
    folder = os.environ.get(SINK_VARIABLE, "") or (stack_mail if stack_mail and Path(stack_mail).is_dir() else "")
    if not j.featured_email:
        return
    if not folder:
        j.s.out.text(
            f"Email to {j.featured_email} went to the notifier's SMTP server (its SMTP_HOST and SMTP_PORT)."
            f" Set {SINK_VARIABLE} to a folder of .eml files to list what arrived there."
        )
        return
    mails = wait_for(lambda: sink_emails(Path(folder), j.featured_email) or None, j.wait_s) or []
    rows = [(name, to, subject, date) for name, to, subject, date in mails]
    j.s.out.table(f"Emails in {folder}", ("file", "to", "subject", "date"), rows)
    j.facts["emails"] = len(mails)


def close(j: Journey) -> None:
    j.step(
        6,
        "A match ends",
        "Staff close a match as completed: the peer's capacity returns at once, and the"
        " scheduler cancels the sessions still ahead.",
    )
    if not j.accepted:
        return
    _, match = j.accepted[-1]
    matcher = j.s.clients.matcher
    before = matcher.call("GetPeer", pb.GetPeerRequest(peer_id=match.peer_id)).peer
    request = pb.CloseMatchRequest(
        idempotency_key=f"{j.key}:close", match_id=match.match_id, reason=pb.CLOSE_REASON_COMPLETED
    )
    closed = matcher.call("CloseMatch", request).match
    after = matcher.call("GetPeer", pb.GetPeerRequest(peer_id=match.peer_id)).peer
    show_matches(j.s.out, "Closed", [closed], {match.peer_id: before.display_name})
    j.s.out.text(
        f"{match.peer_id}'s caseload: {before.load}/{before.capacity} -> {after.load}/{after.capacity} acuity units"
    )

    def cancelled() -> list[spb.Session] | None:
        found = _sessions(j, closed)
        return found if found and all(x.status == spb.SESSION_STATUS_CANCELLED for x in found) else None

    sessions = wait_for(cancelled, min(j.wait_s, 10.0))
    if sessions:
        show_sessions(j.s.out, "Its sessions now", sessions)
    j.facts["closed"] = 1


def _why_waiting(j: Journey, request_id: str) -> str:
    request = j.s.clients.matcher.call("GetIntake", pb.GetIntakeRequest(request_id=request_id)).request
    if request.status == pb.REQUEST_STATUS_WAITLISTED:
        return str(request.waitlist_reason.summary)
    return "its candidates went to requests that fit better or were more urgent; its shortlist still stands"


def batch(j: Journey, time_limit_s: float) -> None:
    j.step(
        7,
        "Batch matching",
        "The matcher re-checks the waiting list by itself whenever capacity frees up, so what"
        " still waits has nobody with room right now. A programme manager runs one global optimisation over the"
        " waiting list and the intakes nobody has acted on yet, then confirms the proposals.",
    )
    matcher = j.s.clients.matcher
    waiting = [r.request_id for r in matcher.collect("ListWaitlist", pb.ListWaitlistRequest(), "requests", 0)]
    taken = {m.request_id for _, m in j.accepted}
    still_open = [
        x.request.request_id
        for x in j.submitted
        if x.request.status == pb.REQUEST_STATUS_SHORTLISTED and x.request.request_id not in taken
    ]
    ids = list(dict.fromkeys(waiting + still_open))
    request = pb.RunBatchMatchRequest(
        idempotency_key=f"{j.key}:batch", request_ids=ids, time_limit_seconds=time_limit_s
    )
    run = run_batch(j.s, request)
    show_run(j.s.out, run, peer_names(matcher, [p.peer_id for p in run.proposals]))
    confirmed = matcher.call(
        "ConfirmBatch", pb.ConfirmBatchRequest(idempotency_key=f"{j.key}:confirm", batch_id=run.batch_id)
    )
    refs = {x.request.request_id: x.intake.ref for x in j.submitted}
    rows = [(refs.get(m.request_id, m.participant_ref), m.peer_id, m.match_id) for m in confirmed.matches]
    j.s.out.table(f"Matched by the batch ({len(rows)})", ("participant", "peer", "match"), rows)
    reasons = [(refs.get(r, r), _why_waiting(j, r)) for r in run.unmatched_request_ids]
    if reasons:
        j.s.out.table(f"Still waiting ({len(reasons)})", ("participant", "why"), reasons)
    j.facts.update(
        batch_requests=len(ids),
        batch_matched=len(confirmed.matches),
        batch_failures=len(confirmed.failures),
        still_waiting=len(reasons),
        objective=round(run.objective, 2),
        gap=run.gap,
        solver=run.solver_status,
        solver_seconds=round(run.seconds, 3),
    )
