"""Protobuf <-> domain for the scheduler's API.

Parsers validate as they go and raise ``InvalidArgument`` naming the
request's own field (``start``, ``participant_time_zone``...), never the
value. Presenters add each person's local time to what is stored in UTC.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from alongside.api.common.v1 import types_pb2
from alongside.api.scheduler.v1 import scheduler_pb2 as pb
from alongside.kit import protoconv
from alongside.kit.errors import InvalidArgument
from alongside.scheduler.adapters.codec import session_record, timestamp
from alongside.scheduler.domain import tz as tzx
from alongside.scheduler.domain import validation as v
from alongside.scheduler.domain.model import Availability, Interval, Policy, Session, Urgency, WeeklyWindow

EPOCH_FLOOR = datetime(2000, 1, 1, tzinfo=UTC)
EPOCH_CEILING = datetime(2100, 1, 1, tzinfo=UTC)


def ts_out(instant: datetime) -> Timestamp:
    return timestamp(instant)


def ts_in(message: Message, name: str, path: str = "") -> datetime:
    """The named, required Timestamp field as a UTC instant; errors name ``path`` (default ``name``)."""
    found = ts_opt(message, name, path)
    if found is None:
        raise InvalidArgument(path or name, "is required")
    return found


def ts_opt(message: Message, name: str, path: str = "") -> datetime | None:
    """The named Timestamp field as a UTC instant, or None when unset."""
    if not message.HasField(name):
        return None
    field = path or name
    instant = protoconv.timestamp(field, getattr(message, name))
    if not EPOCH_FLOOR <= instant < EPOCH_CEILING:
        raise InvalidArgument(field, "must lie between the years 2000 and 2100")
    # Instants are kept to the millisecond; finer digits carry no meaning here.
    return instant.replace(microsecond=instant.microsecond // 1000 * 1000)


def future(instant: datetime, now: datetime, name: str) -> datetime:
    if instant <= now:
        raise InvalidArgument(name, "must be in the future")
    return instant


def windows_in(windows: Iterable[types_pb2.WeeklyWindow], name: str) -> tuple[WeeklyWindow, ...]:
    """ISO days (Monday = 1) to the domain's 0..6; every rule names ``name``."""
    out = []
    for window in windows:
        if not 1 <= window.day <= 7:
            raise InvalidArgument(f"{name}.day", "must be a day of the week")
        try:
            out.append(WeeklyWindow(window.day - 1, window.start_minute, window.end_minute))
        except InvalidArgument as exc:
            raise InvalidArgument(name, exc.message.split(": ", 1)[-1]) from None
    return tuple(out)


def zone_in(name: str, field: str) -> ZoneInfo:
    return v.zone(name, field)


def participant_in(tz_name: str, windows: Iterable[types_pb2.WeeklyWindow]) -> Availability | None:
    """The participant's windows, or None when they gave none (any time suits)."""
    parsed = windows_in(windows, "participant_availability")
    if tz_name:
        zone_in(tz_name, "participant_time_zone")
    if not parsed:
        return None
    if not tz_name:
        raise InvalidArgument("participant_time_zone", "is required with participant_availability")
    return Availability(parsed, tz_name)


def participant_zone(tz_name: str) -> str | None:
    if not tz_name:
        return None
    zone_in(tz_name, "participant_time_zone")
    return tz_name


def duration_in(session_type: str, minutes: int, policy: Policy, default_type: str) -> tuple[str, timedelta]:
    """A configured type, optionally with its own length; the default type otherwise."""
    name = session_type or default_type
    try:
        kind = policy.session_type(name)
    except InvalidArgument:
        raise InvalidArgument("session_type", "is not a configured session type") from None
    if not minutes:
        return kind.name, kind.duration
    length = timedelta(minutes=minutes)
    v.require_duration(length, "duration_minutes")
    return kind.name, length


def slot_duration_in(session_type: str, minutes: int, policy: Policy) -> timedelta:
    """FindSlots: an explicit duration wins over the type; one of them is required."""
    if minutes:
        length = timedelta(minutes=minutes)
        v.require_duration(length, "duration_minutes")
        return length
    if not session_type:
        raise InvalidArgument("duration_minutes", "give a session_type or a positive duration")
    return duration_in(session_type, 0, policy, session_type)[1]


def recurrence_in(req: pb.BookSessionRequest) -> tuple[int | None, datetime | None]:
    """(count, until) of a weekly series, or (None, None) for a single session."""
    if not req.HasField("recurrence"):
        return None, None
    rec = req.recurrence
    until = ts_opt(rec, "until", "recurrence.until")
    if (rec.count > 0) == (until is not None) or rec.count < 0:
        raise InvalidArgument("recurrence.count", "give exactly one of count or until")
    return (rec.count, None) if until is None else (None, until)


def urgency_in(value: int) -> Urgency:
    return Urgency.URGENT if value == pb.URGENCY_URGENT else Urgency.ROUTINE


def local_iso(instant: datetime, tz_name: str | None) -> str:
    if not tz_name:
        return ""
    return tzx.shown_in(instant, v.zone(tz_name)).isoformat()


def session_out(session: Session, peer_tz: str | None) -> pb.Session:
    record = session_record(session)
    record.peer_local_start = local_iso(session.start, peer_tz)
    record.participant_local_start = local_iso(session.start, session.participant_tz)
    return record


def slot_out(slot: Interval, peer_tz: str, participant_tz: str | None) -> pb.Slot:
    return pb.Slot(
        start=ts_out(slot.start),
        end=ts_out(slot.end),
        peer_local_start=local_iso(slot.start, peer_tz),
        participant_local_start=local_iso(slot.start, participant_tz),
    )


def time_off_out(time_off_id: str, peer_id: str, span: Interval) -> pb.TimeOff:
    return pb.TimeOff(time_off_id=time_off_id, peer_id=peer_id, start=ts_out(span.start), end=ts_out(span.end))
