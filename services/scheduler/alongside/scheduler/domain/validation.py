"""Input rules shared by the scheduler's domain.

Each check raises ``InvalidArgument`` naming the field and the rule. The
messages never echo the offending value: it may be personal (a free-text
reason, a participant reference) and errors travel to logs and clients.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from alongside.kit.errors import InvalidArgument

MAX_SESSION = timedelta(hours=8)


@lru_cache(maxsize=512)
def _load_zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def zone(name: str, field: str = "time_zone") -> ZoneInfo:
    """Resolve an IANA zone name, or reject it.

    ``ValueError`` covers malformed keys such as absolute paths, which
    ``ZoneInfo`` refuses before it looks anything up.
    """
    if not name:
        raise InvalidArgument(field, "time zone is required")
    try:
        return _load_zone(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidArgument(field, "unknown IANA time zone") from None


def require_aware(value: datetime, field: str) -> None:
    """Instants must carry an offset; a naive datetime is ambiguous."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidArgument(field, "must be a time-zone-aware instant")


def require_order(start: datetime, end: datetime, field: str) -> None:
    """An interval must have positive length."""
    if end <= start:
        raise InvalidArgument(field, "end must be after start")


def require_duration(duration: timedelta, field: str = "duration") -> None:
    """Sessions last more than zero and at most eight hours."""
    if duration <= timedelta(0):
        raise InvalidArgument(field, "must be positive")
    if duration > MAX_SESSION:
        raise InvalidArgument(field, "must be at most 8 hours")


def require_future(start: datetime, now: datetime, field: str = "slot.start") -> None:
    """A slot that has already begun cannot be booked or moved to."""
    if start <= now:
        raise InvalidArgument(field, "must be in the future")


def require_positive(value: int, field: str) -> None:
    """Counts such as caps and limits must be at least one."""
    if value < 1:
        raise InvalidArgument(field, "must be at least 1")


def require_non_negative(value: timedelta, field: str) -> None:
    """Buffers, offsets and notice windows cannot be negative."""
    if value < timedelta(0):
        raise InvalidArgument(field, "must not be negative")


def require_text(value: str, field: str) -> None:
    """Identifiers and reasons must not be blank."""
    if not value.strip():
        raise InvalidArgument(field, "is required")
