"""Local wall time <-> UTC, with daylight-saving gaps and folds made explicit.

Two rules, used everywhere in the scheduler:

* **Repeated hour (fall-back):** a wall time that occurs twice means its
  *first* occurrence (``fold=0``, the offset before the change). This is
  also what RFC 5545 prescribes for TZID date-times, so a feed reader and
  the scheduler agree.
* **Skipped hour (spring-forward):** a wall time that never occurs is either
  - *shifted* by the gap length, again as RFC 5545 says (02:30 on a US
    spring-forward day means 03:30 EDT); used for series occurrences, which
    are flagged, or
  - *clamped* to the transition instant, the first existing minute after
    the gap; used for window edges, so a window never grows past its
    wall-clock end.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo


def local_of(instant: datetime, tz: ZoneInfo) -> datetime:
    """The naive wall time an instant shows in ``tz``.

    Goes through UTC on purpose: ``astimezone`` to the instant's own tzinfo
    is a no-op and would echo a non-existent wall time back unchanged.
    """
    return instant.astimezone(UTC).astimezone(tz).replace(tzinfo=None)


def exists(naive: datetime, tz: ZoneInfo) -> bool:
    """False for wall times inside a spring-forward gap."""
    return local_of(naive.replace(tzinfo=tz, fold=0), tz) == naive


def is_ambiguous(naive: datetime, tz: ZoneInfo) -> bool:
    """True for wall times that occur twice (the repeated hour)."""
    first = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    second = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    return first != second and exists(naive, tz)


def to_utc(naive: datetime, tz: ZoneInfo) -> datetime:
    """RFC 5545 reading: first occurrence in a fold, gap-length shift in a gap."""
    return naive.replace(tzinfo=tz, fold=0).astimezone(UTC)


def to_utc_clamped(naive: datetime, tz: ZoneInfo) -> datetime:
    """Like ``to_utc``, but a wall time in a gap becomes the gap's end instant."""
    if exists(naive, tz):
        return to_utc(naive, tz)
    return _transition_in(naive, tz)


def _transition_in(naive: datetime, tz: ZoneInfo) -> datetime:
    """Binary-search the instant where the clock jumps over ``naive``.

    zoneinfo does not expose its transition table, but the jump lies between
    the two readings of the missing wall time, at most a day apart, so about
    17 halvings find it to the second.
    """
    low = int(naive.replace(tzinfo=tz, fold=1).timestamp())
    high = int(naive.replace(tzinfo=tz, fold=0).timestamp())
    after = _offset_at(high, tz)
    while high - low > 1:
        mid = (low + high) // 2
        if _offset_at(mid, tz) == after:
            high = mid
        else:
            low = mid
    return datetime.fromtimestamp(high, UTC)


def _offset_at(epoch_seconds: int, tz: ZoneInfo) -> timedelta | None:
    return datetime.fromtimestamp(epoch_seconds, tz).utcoffset()


def shown_in(instant: datetime, tz: ZoneInfo) -> datetime:
    """An aware datetime in ``tz`` whose wall time a person would read."""
    return instant.astimezone(UTC).astimezone(tz)


def expressible_as_wall_time(instant: datetime, tz: ZoneInfo) -> bool:
    """False for the second pass through a repeated hour.

    Such an instant is real, but its wall time read back (RFC 5545, or
    ``to_utc``) would mean the first pass, so it must be written in UTC.
    """
    return to_utc(local_of(instant, tz), tz) == instant.astimezone(UTC)
