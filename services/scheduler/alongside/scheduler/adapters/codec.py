"""How the scheduler's records look in Redis.

Sessions are stored as the API's ``Session`` protobuf (a versioned
contract) without the presentation-only local times; series as JSON; the
peer calendar as hash fields. Instants travel as integer epoch milliseconds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cached_property

from google.protobuf.timestamp_pb2 import Timestamp

from alongside.api.scheduler.v1 import scheduler_pb2 as pb
from alongside.scheduler.domain.model import Availability, Interval, Session, SessionStatus, WeeklyWindow
from alongside.scheduler.domain.recurrence import Override, Series, SeriesStatus


def ms(instant: datetime) -> int:
    return int(instant.timestamp() * 1000)


def from_ms(value: int | float | str | bytes) -> datetime:
    return datetime.fromtimestamp(int(float(value)) / 1000, UTC)


def timestamp(instant: datetime) -> Timestamp:
    """A protobuf Timestamp, built directly (``FromDatetime`` is several times slower)."""
    return Timestamp(seconds=int(instant.timestamp() // 1), nanos=instant.microsecond * 1000)


def booked_member(session: Session) -> str:
    """The ``booked`` set's member: the end rides along for the overlap check."""
    return f"{session.id}|{ms(session.end)}"


def index_member(session: Session) -> str:
    """Lexicographic order of these members is (start, id)."""
    return f"{ms(session.start):013d}|{session.id}"


_STATUS = {
    SessionStatus.BOOKED: pb.SESSION_STATUS_BOOKED,
    SessionStatus.CANCELLED: pb.SESSION_STATUS_CANCELLED,
    SessionStatus.ATTENDED: pb.SESSION_STATUS_ATTENDED,
    SessionStatus.NO_SHOW: pb.SESSION_STATUS_NO_SHOW,
}
_STATUS_BACK = {v: k for k, v in _STATUS.items()}


def session_record(session: Session) -> pb.Session:
    record = pb.Session(
        session_id=session.id,
        peer_id=session.peer_id,
        participant_ref=session.participant_ref,
        match_id=session.match_id or "",
        session_type=session.session_type,
        status=_STATUS[session.status],
        sequence=session.sequence,
        series_id=session.series_id or "",
        occurrence=session.occurrence_index or 0,
        participant_time_zone=session.participant_tz or "",
        start=timestamp(session.start),
        end=timestamp(session.end),
    )
    if session.cancel_reason:
        record.cancel_reason = pb.CancelReason.Value("CANCEL_REASON_" + session.cancel_reason)  # type: ignore[assignment]
    return record


def encode_session(session: Session) -> bytes:
    return session_record(session).SerializeToString(deterministic=True)


def session_fact(session: Session) -> str:
    """The dashboard's copy of a session: start, status letter, match (docs/dashboard.md)."""
    return f"{ms(session.start)}|{session.status.value[0]}|{session.match_id or ''}"


def session_of(record: pb.Session) -> Session:
    reason = pb.CancelReason.Name(record.cancel_reason).removeprefix("CANCEL_REASON_") if record.cancel_reason else None
    return Session(
        id=record.session_id,
        peer_id=record.peer_id,
        participant_ref=record.participant_ref,
        start=record.start.ToDatetime(UTC),
        end=record.end.ToDatetime(UTC),
        session_type=record.session_type,
        status=_STATUS_BACK[record.status],
        sequence=record.sequence,
        series_id=record.series_id or None,
        occurrence_index=record.occurrence if record.series_id else None,
        cancel_reason=reason,
        match_id=record.match_id or None,
        participant_tz=record.participant_time_zone or None,
    )


def decode_session(raw: bytes) -> Session:
    record = pb.Session()
    record.ParseFromString(raw)
    return session_of(record)


def encode_series(series: Series) -> bytes:
    data = {
        "id": series.id,
        "peer": series.peer_id,
        "ref": series.participant_ref,
        "tz": series.tz,
        "first": series.first_start_local.isoformat(),
        "minutes": series.duration.total_seconds() / 60,
        "count": series.count,
        "until": series.until.isoformat() if series.until else None,
        "cancelled": sorted(series.cancelled),
        "overrides": [[o.index, ms(o.interval.start), ms(o.interval.end)] for o in series.overrides],
        "sequence": series.sequence,
        "status": series.status.value,
        "type": series.session_type,
        "match": series.match_id,
        "ptz": series.participant_tz,
    }
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


def decode_series(raw: bytes) -> Series:
    d = json.loads(raw)
    return Series(
        id=d["id"],
        peer_id=d["peer"],
        participant_ref=d["ref"],
        tz=d["tz"],
        first_start_local=datetime.fromisoformat(d["first"]),
        duration=timedelta(minutes=d["minutes"]),
        count=d["count"],
        until=date.fromisoformat(d["until"]) if d["until"] else None,
        cancelled=frozenset(d["cancelled"]),
        overrides=tuple(Override(i, Interval(from_ms(s), from_ms(e))) for i, s, e in d["overrides"]),
        sequence=d["sequence"],
        status=SeriesStatus(d["status"]),
        session_type=d["type"],
        match_id=d["match"],
        participant_tz=d["ptz"],
    )


@dataclass(frozen=True)
class PeerCalendar:
    """The peer's copy of roster facts: zone, weekly windows and status."""

    peer_id: str
    tz: str
    windows: tuple[WeeklyWindow, ...]
    active: bool
    availability_version: int
    status_version: int

    @property
    def known(self) -> bool:
        """Availability has arrived (a status change alone does not carry it)."""
        return self.availability_version > 0 and bool(self.tz)

    @cached_property
    def availability(self) -> Availability:
        return Availability(self.windows, self.tz)


def encode_windows(windows: tuple[WeeklyWindow, ...]) -> str:
    return json.dumps([[w.day, w.start_min, w.end_min] for w in windows])


def decode_calendar(peer_id: str, fields: dict[bytes, bytes]) -> PeerCalendar | None:
    if not fields:
        return None
    raw_windows = fields.get(b"windows")
    windows = tuple(WeeklyWindow(*w) for w in json.loads(raw_windows)) if raw_windows else ()
    return PeerCalendar(
        peer_id=peer_id,
        tz=fields.get(b"tz", b"").decode(),
        windows=windows,
        active=fields.get(b"active", b"0") == b"1",
        availability_version=int(fields.get(b"av", b"0")),
        status_version=int(fields.get(b"sv", b"0")),
    )
