"""``alongside sessions``: list, book, reschedule and cancel sessions."""

from __future__ import annotations

from typing import Annotated

import typer

from alongside.api.scheduler.v1 import scheduler_pb2 as pb
from alongside.cli.clients import idempotency_key
from alongside.cli.errors import handled
from alongside.cli.output import to_dict
from alongside.cli.parsing import enum_value, instant, local_zone, timestamp, windows, zone
from alongside.cli.state import IdempotencyKey, PageToken, Session, session
from alongside.cli.views import show_sessions

app = typer.Typer(help="Sessions: list, book, reschedule, cancel.", no_args_is_help=True)
Zone = Annotated[
    str | None, typer.Option("--tz", help="Zone for times given without an offset; default: this machine's.")
]
Following = Annotated[bool, typer.Option("--following", help="This and the following sessions of the series.")]
Override = Annotated[bool, typer.Option("--override-notice", help="Staff only: allow it inside the notice window.")]


def _emit(s: Session, title: str, sessions: list[pb.Session]) -> None:
    if s.out.json:
        s.out.emit({"sessions": [to_dict(x) for x in sessions]})
    else:
        show_sessions(s.out, title, sessions)


@app.command("list")
@handled
def list_sessions(
    ctx: typer.Context,
    peer: Annotated[str | None, typer.Option(help="Peer id.")] = None,
    participant: Annotated[str | None, typer.Option(help="Participant reference.")] = None,
    start: Annotated[str | None, typer.Option("--from", help="From this date or time, e.g. 2027-03-01.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Up to this date or time.")] = None,
    tz: Zone = None,
    limit: Annotated[int, typer.Option(help="At most this many; 0 for all.")] = 50,
    page_token: PageToken = "",
) -> None:
    """Sessions in start order, each in the peer's and the participant's own time."""
    s = session(ctx)
    where = zone("--tz", tz) if tz else local_zone()
    request = pb.ListSessionsRequest(peer_id=peer or "", participant_ref=participant or "", page_token=page_token)
    if start:
        request.start.CopyFrom(timestamp(instant("--from", start, where)))
    if end:
        request.end.CopyFrom(timestamp(instant("--to", end, where)))
    listing = s.clients.scheduler.page("ListSessions", request, "sessions", max(limit, 0))
    if s.out.json:
        s.out.emit(listing.json("sessions", [to_dict(x) for x in listing.items]))
        return
    show_sessions(s.out, listing.title("Sessions"), listing.items)
    if listing.hint():
        s.out.hint(listing.hint())


@app.command("book")
@handled
def book(
    ctx: typer.Context,
    peer: Annotated[str, typer.Option(help="Peer id.")],
    participant: Annotated[str, typer.Option(help="Participant reference.")],
    match: Annotated[str, typer.Option(help="Match id.")] = "",
    session_type: Annotated[str, typer.Option("--type", help="A configured session type, e.g. follow_up.")] = "",
    start: Annotated[str | None, typer.Option(help="Start time; default the earliest slot both can make.")] = None,
    tz: Annotated[str | None, typer.Option("--tz", help="The participant's IANA zone (also reads --start).")] = None,
    availability: Annotated[
        list[str] | None, typer.Option(help="Participant's window, e.g. 'tue 14:00-18:00'.")
    ] = None,
    weekly: Annotated[int, typer.Option(help="Book a weekly series of this many sessions.")] = 0,
    duration: Annotated[int, typer.Option(help="Minutes; overrides the session type's length.")] = 0,
    key: IdempotencyKey = None,
) -> None:
    """Book a session (or a weekly series) without overlapping the peer's other bookings."""
    s = session(ctx)
    request = pb.BookSessionRequest(
        idempotency_key=idempotency_key(key),
        peer_id=peer,
        participant_ref=participant,
        match_id=match,
        session_type=session_type,
        participant_time_zone=tz or "",
        duration_minutes=duration,
        participant_availability=windows("--availability", availability or []),
    )
    if start:
        request.start.CopyFrom(timestamp(instant("--start", start, zone("--tz", tz) if tz else None)))
    if weekly:
        request.recurrence.count = weekly
    reply = s.clients.scheduler.call("BookSession", request)
    _emit(s, "Booked", list(reply.occurrences) or [reply.session])


@app.command("reschedule")
@handled
def reschedule(
    ctx: typer.Context,
    session_id: Annotated[str, typer.Argument(help="Session id.")],
    to: Annotated[str, typer.Option("--to", help="New start time, e.g. 2027-03-04T15:00.")],
    tz: Zone = None,
    following: Following = False,
    override_notice: Override = False,
    key: IdempotencyKey = None,
) -> None:
    """Move a session (or it and the rest of its series) to a new start."""
    s = session(ctx)
    request = pb.RescheduleSessionRequest(
        idempotency_key=idempotency_key(key),
        session_id=session_id,
        new_start=timestamp(instant("--to", to, zone("--tz", tz) if tz else None)),
        scope=pb.SCOPE_THIS_AND_FOLLOWING if following else pb.SCOPE_THIS,
        override_notice=override_notice,
    )
    _emit(s, "Rescheduled", list(s.clients.scheduler.call("RescheduleSession", request).sessions))


@app.command("cancel")
@handled
def cancel(
    ctx: typer.Context,
    session_id: Annotated[str, typer.Argument(help="Session id.")],
    reason: Annotated[str, typer.Option(help="participant_request, peer_unavailable, match_closed or other.")],
    following: Following = False,
    override_notice: Override = False,
    key: IdempotencyKey = None,
) -> None:
    """Cancel a session (or it and the rest of its series)."""
    s = session(ctx)
    code = enum_value("--reason", pb.CancelReason, reason, exclude=("rescheduled",))
    request = pb.CancelSessionRequest(
        idempotency_key=idempotency_key(key),
        session_id=session_id,
        reason=code,
        scope=pb.SCOPE_THIS_AND_FOLLOWING if following else pb.SCOPE_THIS,
        override_notice=override_notice,
    )
    _emit(s, "Cancelled", list(s.clients.scheduler.call("CancelSession", request).sessions))
