"""When a notification may go out, given the peer's quiet hours.

Quiet hours are wall-clock times in the peer's own zone, so "22:00-07:00"
means 07:00 on the peer's clock on every day, across daylight-saving
changes. All instants returned are aware and in UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from alongside.notifier.domain.model import ContactPreferences, QuietHours, Urgency


def deliver_at(
    now: datetime,
    prefs: ContactPreferences,
    urgency: Urgency,
    *,
    deadline: datetime | None = None,
) -> datetime:
    """The instant to send: ``now`` if urgent or outside quiet hours, else the
    moment the quiet window closes on the peer's clock.

    A routine message is never held until or past ``deadline`` (say, the start of
    the session it is about): stale news is worse than a quiet-hours ping.
    """
    now = _as_utc(now)
    if urgency is Urgency.URGENT or prefs.quiet_hours is None:
        return now
    opens = quiet_window_end(now, prefs.quiet_hours, ZoneInfo(prefs.timezone))
    if opens is None or (deadline is not None and opens >= _as_utc(deadline)):
        return now
    return opens


def in_quiet_hours(now: datetime, window: QuietHours, zone: ZoneInfo) -> bool:
    """Whether the peer's local clock at ``now`` reads a time inside the window."""
    return window.contains(_as_utc(now).astimezone(zone).time())


def quiet_window_end(now: datetime, window: QuietHours, zone: ZoneInfo) -> datetime | None:
    """None if ``now`` is outside the window, else the UTC instant it closes.

    A window that wraps midnight and was entered this evening closes on the
    next local date; otherwise it closes today.
    """
    now = _as_utc(now)
    local = now.astimezone(zone)
    if not window.contains(local.time()):
        return None
    day = local.date()
    if window.wraps_midnight and local.time().replace(fold=0) >= window.start:
        day += timedelta(days=1)
    return first_instant_at(day, window.end, zone, not_before=now)


def first_instant_at(day: date, wall: time, zone: ZoneInfo, *, not_before: datetime) -> datetime:
    """The first UTC instant, not before ``not_before``, when the local clock
    on ``day`` shows ``wall`` or later.

    On a spring-forward day ``wall`` may not exist (02:30 in a 02:00-03:00
    gap); the answer is then the end of the gap. On a fall-back day it exists
    twice; the first occurrence that is not in the past wins.
    """
    for fold in (0, 1):
        candidate = datetime.combine(day, wall, tzinfo=zone).replace(fold=fold)
        if not _exists(candidate):
            return _gap_end(candidate)
        instant = candidate.astimezone(UTC)
        if instant >= not_before:
            return instant
    return not_before


def _exists(local: datetime) -> bool:
    # A wall time inside a DST gap does not survive a round trip through UTC.
    back = local.astimezone(UTC).astimezone(local.tzinfo)
    return back.replace(tzinfo=None, fold=0) == local.replace(tzinfo=None, fold=0)


def _gap_end(local: datetime) -> datetime:
    """The transition instant that skips over the non-existent ``local``.

    fold=1 reads the time with the offset after the jump (an instant before
    it), fold=0 with the offset before (an instant after it). Bisect to the
    second between the two; zoneinfo offers no public transition lookup.
    """
    lo = int(local.replace(fold=1).astimezone(UTC).timestamp())
    hi = int(local.replace(fold=0).astimezone(UTC).timestamp())
    zone = local.tzinfo
    after = datetime.fromtimestamp(hi, UTC).astimezone(zone).utcoffset()
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, UTC).astimezone(zone).utcoffset() == after:
            hi = mid
        else:
            lo = mid
    return datetime.fromtimestamp(hi, UTC)


def _as_utc(instant: datetime) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("instants must be timezone-aware")
    return instant.astimezone(UTC)
