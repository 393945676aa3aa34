"""Protobuf <-> domain for the group session RPCs. Errors name the request's field."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from alongside.api.scheduler.v1 import scheduler_pb2 as pb
from alongside.kit.errors import InvalidArgument
from alongside.kit.ids import check_id
from alongside.scheduler.adapters.codec import from_ms
from alongside.scheduler.domain.groups import ERASED, MAX_CAPACITY, MIN_MINUTES, Enrolment, Group, Modality, RosterEntry
from alongside.scheduler.domain.validation import MAX_SESSION
from alongside.scheduler.entrypoints.mappers import local_iso, ts_opt, ts_out

_MODALITY: dict[int, Modality] = {
    pb.GROUP_MODALITY_IN_PERSON: Modality.IN_PERSON,
    pb.GROUP_MODALITY_VIDEO: Modality.VIDEO,
    pb.GROUP_MODALITY_PHONE: Modality.PHONE,
}
_MODALITY_OUT: dict[Modality, Any] = {v: k for k, v in _MODALITY.items()}
_ENROLMENT_OUT = {
    Enrolment.ENROLLED: pb.ENROLMENT_STATUS_ENROLLED,
    Enrolment.WAITING: pb.ENROLMENT_STATUS_WAITING,
    Enrolment.WITHDRAWN: pb.ENROLMENT_STATUS_WITHDRAWN,
}
ATTENDANCE_LETTER: dict[int, str] = {pb.ATTENDANCE_ATTENDED: "A", pb.ATTENDANCE_ABSENT: "N"}
ATTENDANCE_OUT: dict[str, Any] = {v: k for k, v in ATTENDANCE_LETTER.items()}


def modality_in(value: int) -> Modality:
    found = _MODALITY.get(int(value))
    if found is None:
        raise InvalidArgument("modality", "must be in person, video or phone")
    return found


def capacity_in(value: int) -> int:
    if not 1 <= value <= MAX_CAPACITY:
        raise InvalidArgument("capacity", f"must be between 1 and {MAX_CAPACITY}")
    return value


def minutes_in(value: int) -> timedelta:
    longest = int(MAX_SESSION.total_seconds() // 60)
    if not MIN_MINUTES <= value <= longest:
        raise InvalidArgument("duration_minutes", f"must be between {MIN_MINUTES} and {longest}")
    return timedelta(minutes=value)


def recurrence_in(req: pb.CreateGroupSessionRequest) -> tuple[int | None, datetime | None]:
    """A group always repeats weekly: exactly one of count or until."""
    if not req.HasField("recurrence"):
        raise InvalidArgument("recurrence", "is required: a group meets weekly (count or until)")
    rec = req.recurrence
    until = ts_opt(rec, "until", "recurrence.until")
    if (rec.count > 0) == (until is not None) or rec.count < 0:
        raise InvalidArgument("recurrence.count", "give exactly one of count or until")
    return (rec.count, None) if until is None else (None, until)


def optional_id(value: str, field: str) -> str | None:
    return check_id(field, value) if value else None


def attendance_in(value: int) -> str:
    letter = ATTENDANCE_LETTER.get(int(value))
    if letter is None:
        raise InvalidArgument("attendance", "must be attended or absent")
    return letter


def group_out(group: Group, enrolled: int, waiting: int) -> pb.GroupSession:
    series = group.series
    return pb.GroupSession(
        group_id=group.id,
        host_peer_id=group.host_peer_id,
        co_facilitator_peer_id=group.co_facilitator_peer_id or "",
        capacity=group.capacity,
        modality=_MODALITY_OUT[group.modality],
        duration_minutes=int(series.duration.total_seconds() // 60),
        time_zone=series.tz,
        status=pb.GROUP_STATUS_ACTIVE if group.active else pb.GROUP_STATUS_CANCELLED,
        enrolled=enrolled,
        waiting=waiting,
        sequence=series.sequence,
        occurrences=[
            pb.GroupOccurrence(
                index=o.index,
                start=ts_out(o.interval.start),
                end=ts_out(o.interval.end),
                peer_local_start=local_iso(o.interval.start, series.tz),
            )
            for o in group.occurrences()
        ],
    )


def enrolment_out(entry: RosterEntry, position: int = 0) -> pb.GroupEnrolment:
    return pb.GroupEnrolment(
        enrolment_id=entry.enrolment_id,
        participant_ref="" if entry.participant_ref.startswith(ERASED) else entry.participant_ref,
        status=_ENROLMENT_OUT[entry.status],
        position=position if entry.status is Enrolment.WAITING else 0,
        enrolled_at=ts_out(from_ms(entry.at_ms)),
    )
