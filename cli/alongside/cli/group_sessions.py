"""``alongside groups host|hosted|cancel|enrol|withdraw|attendance|roster``:
peer-led group sessions in the scheduler.

These commands join the ``groups`` command group (the community-group
directory adds its own there) through ``register``, so the group itself is
declared once.
"""

from __future__ import annotations

from typing import Annotated

import typer

from alongside.api.scheduler.v1 import scheduler_pb2 as pb
from alongside.cli.clients import idempotency_key
from alongside.cli.errors import handled
from alongside.cli.output import label, local, to_dict, when
from alongside.cli.parsing import bad, enum_value, instant, timestamp, zone
from alongside.cli.state import IdempotencyKey, Session, session

GroupId = Annotated[str, typer.Argument(help="Group session id, as `groups host` printed it.")]
Participant = Annotated[str, typer.Option("--participant", help="Participant reference.")]


def register(app: typer.Typer) -> None:
    """Add the group session commands to the ``groups`` command group."""
    for name, command in (
        ("host", host),
        ("hosted", hosted),
        ("cancel", cancel),
        ("enrol", enrol),
        ("withdraw", withdraw),
        ("attendance", attendance),
        ("roster", roster),
    ):
        app.command(name)(command)


def _show_groups(s: Session, title: str, groups: list[pb.GroupSession]) -> None:
    if s.out.json:
        s.out.emit({"groups": [to_dict(g) for g in groups]})
        return
    rows = [
        (
            g.group_id,
            local(g.occurrences[0].peer_local_start) if g.occurrences else "",
            str(len(g.occurrences)),
            g.host_peer_id,
            g.co_facilitator_peer_id,
            label(pb.GroupModality, g.modality),
            f"{g.enrolled}/{g.capacity}",
            str(g.waiting),
            label(pb.GroupStatus, g.status),
        )
        for g in groups
    ]
    columns = (
        "group",
        "next meeting (host's time)",
        "meetings",
        "host",
        "co-facilitator",
        "modality",
        "seats",
        "waiting",
        "status",
    )
    s.out.table(title, columns, rows)


def _show_enrolments(s: Session, title: str, enrolments: list[pb.GroupEnrolment]) -> None:
    if s.out.json:
        s.out.emit({"enrolments": [to_dict(e) for e in enrolments]})
        return
    rows = [
        (e.participant_ref, label(pb.EnrolmentStatus, e.status), str(e.position or ""), when(e.enrolled_at))
        for e in enrolments
    ]
    s.out.table(title, ("participant", "status", "place", "since"), rows)


@handled
def host(
    ctx: typer.Context,
    peer: Annotated[str, typer.Option(help="The hosting peer's id.")],
    capacity: Annotated[int, typer.Option(help="Seats (1-50).")],
    modality: Annotated[str, typer.Option(help="in_person, video or phone.")],
    start: Annotated[str, typer.Option(help="The first meeting, e.g. '2027-03-04 18:00'.")],
    weekly: Annotated[int, typer.Option(help="Meet weekly this many times.")] = 0,
    until: Annotated[str | None, typer.Option(help="Or meet weekly until this date.")] = None,
    duration: Annotated[int, typer.Option(help="Minutes per meeting.")] = 90,
    co_facilitator: Annotated[str, typer.Option("--co-facilitator", help="Another peer who co-facilitates.")] = "",
    tz: Annotated[str | None, typer.Option("--tz", help="Zone for --start and --until without an offset.")] = None,
    key: IdempotencyKey = None,
) -> None:
    """Host a weekly group session; refused if a meeting overlaps the peers' sessions."""
    s = session(ctx)
    where = zone("--tz", tz) if tz else None
    if (weekly > 0) == (until is not None):
        raise bad("--weekly", "give --weekly or --until")
    request = pb.CreateGroupSessionRequest(
        idempotency_key=idempotency_key(key),
        host_peer_id=peer,
        co_facilitator_peer_id=co_facilitator,
        capacity=capacity,
        modality=enum_value("--modality", pb.GroupModality, modality),
        duration_minutes=duration,
        start=timestamp(instant("--start", start, where)),
    )
    if weekly:
        request.recurrence.count = weekly
    else:
        request.recurrence.until.CopyFrom(timestamp(instant("--until", until, where)))
    _show_groups(s, "Group session", [s.clients.scheduler.call("CreateGroupSession", request).group])


@handled
def hosted(ctx: typer.Context, peer: Annotated[str, typer.Option(help="Peer id.")]) -> None:
    """The group sessions a peer hosts or co-facilitates."""
    s = session(ctx)
    reply = s.clients.scheduler.call("ListGroupSessions", pb.ListGroupSessionsRequest(peer_id=peer))
    _show_groups(s, f"Group sessions of {peer}", list(reply.groups))


@handled
def cancel(ctx: typer.Context, group_id: GroupId, key: IdempotencyKey = None) -> None:
    """Cancel a group session: its meetings leave the peers' calendars."""
    s = session(ctx)
    request = pb.CancelGroupSessionRequest(idempotency_key=idempotency_key(key), group_id=group_id)
    _show_groups(s, "Cancelled", [s.clients.scheduler.call("CancelGroupSession", request).group])


@handled
def enrol(ctx: typer.Context, group_id: GroupId, participant: Participant, key: IdempotencyKey = None) -> None:
    """Enrol a participant: a seat if one is free, else the waiting list."""
    s = session(ctx)
    request = pb.EnrolParticipantRequest(
        idempotency_key=idempotency_key(key), group_id=group_id, participant_ref=participant
    )
    _show_enrolments(s, "Enrolment", [s.clients.scheduler.call("EnrolParticipant", request).enrolment])


@handled
def withdraw(ctx: typer.Context, group_id: GroupId, participant: Participant, key: IdempotencyKey = None) -> None:
    """Withdraw a participant; a freed seat goes to the first on the waiting list."""
    s = session(ctx)
    request = pb.WithdrawParticipantRequest(
        idempotency_key=idempotency_key(key), group_id=group_id, participant_ref=participant
    )
    reply = s.clients.scheduler.call("WithdrawParticipant", request)
    changed = [reply.enrolment] + ([reply.promoted] if reply.HasField("promoted") else [])
    _show_enrolments(s, "Withdrawn" + (", and promoted from the waiting list" if len(changed) > 1 else ""), changed)


@handled
def attendance(
    ctx: typer.Context,
    group_id: GroupId,
    participant: Participant,
    meeting: Annotated[int, typer.Option(help="Meeting number, from 0 (see `groups roster`).")],
    absent: Annotated[bool, typer.Option("--absent/--attended", help="Record an absence (default: attended).")] = False,
    key: IdempotencyKey = None,
) -> None:
    """Record one participant's attendance at one meeting."""
    s = session(ctx)
    request = pb.RecordGroupAttendanceRequest(
        idempotency_key=idempotency_key(key),
        group_id=group_id,
        participant_ref=participant,
        occurrence_index=meeting,
        attendance=pb.ATTENDANCE_ABSENT if absent else pb.ATTENDANCE_ATTENDED,
    )
    reply = s.clients.scheduler.call("RecordGroupAttendance", request)
    if s.out.json:
        s.out.emit(to_dict(reply))
    else:
        s.out.text(f"Meeting {reply.occurrence_index}: {label(pb.Attendance, reply.attendance)}")


@handled
def roster(ctx: typer.Context, group_id: GroupId) -> None:
    """Who is enrolled, who waits (in order), who withdrew; and attendance."""
    s = session(ctx)
    reply = s.clients.scheduler.call("ListGroupEnrolments", pb.ListGroupEnrolmentsRequest(group_id=group_id))
    if s.out.json:
        s.out.emit(to_dict(reply))
        return
    _show_enrolments(s, "Roster", list(reply.enrolments))
    rows = [(a.participant_ref, str(a.occurrence_index), label(pb.Attendance, a.attendance)) for a in reply.attendance]
    if rows:
        s.out.table("Attendance", ("participant", "meeting", "attendance"), rows)
