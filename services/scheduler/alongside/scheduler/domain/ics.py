"""A peer's calendar feed (RFC 5545), built with the ``icalendar`` library.

Privacy: every event has the same neutral title and only the participant's
pseudonymous reference. Nothing here accepts a name, and free text such as
a cancellation reason is never copied into the feed.

Times: events carry TZID=<zone> with a generated VTIMEZONE, so they read
right in the peer's zone. The one exception is an instant in the *second*
pass of a repeated hour, which a TZID wall time cannot express (RFC 5545
reads it as the first pass); such an instant is written in UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import icalendar

from . import tz as tzx
from . import validation as v
from .model import Session, SessionStatus
from .recurrence import Series, SeriesStatus

TITLE = "Peer support session"
GROUP_TITLE = "Peer support group"
PRODID = "-//Alongside//Scheduler//EN"
UID_DOMAIN = "alongside"


def render_ics(
    peer_tz: str,
    sessions: Sequence[Session],
    series: Sequence[Series],
    calendar_name: str,
    dtstamp: datetime,
    groups: Sequence[Series] = (),
) -> str:
    """The feed text. Sessions that belong to a series are shown by the series;
    ``groups`` are the weekly series of the group sessions the peer facilitates
    (a neutral title, no participant)."""
    zone = v.zone(peer_tz, "peer.time_zone")
    v.require_aware(dtstamp, "dtstamp")
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("x-wr-calname", calendar_name)
    cal.add("x-wr-timezone", peer_tz)
    stamp = dtstamp.astimezone(UTC)
    for session in sorted(sessions, key=lambda s: (s.start, s.id)):
        if session.series_id is None:
            cal.add_component(_session_event(session, zone, stamp))
    for item in sorted(series, key=lambda s: s.id):
        for event in _series_events(item, stamp):
            cal.add_component(event)
    for item in sorted(groups, key=lambda s: s.id):
        for event in _series_events(item, stamp, GROUP_TITLE):
            cal.add_component(event)
    cal.add_missing_timezones()
    return str(cal.to_ical().decode("utf-8"))


def uid_for(object_id: str) -> str:
    """Stable across renders: derived from the id only."""
    return f"{object_id}@{UID_DOMAIN}"


def wall_time(instant: datetime, zone: ZoneInfo) -> datetime:
    """The instant in ``zone`` when a TZID can express it, else in UTC."""
    if tzx.expressible_as_wall_time(instant, zone):
        return tzx.shown_in(instant, zone)
    return instant.astimezone(UTC)


def _base_event(uid: str, participant_ref: str, sequence: int, stamp: datetime, title: str = TITLE) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp)
    event.add("sequence", sequence)
    event.add("summary", title)
    if participant_ref:
        event.add("description", f"Participant reference: {participant_ref}")
    return event


def _session_event(session: Session, zone: ZoneInfo, stamp: datetime) -> icalendar.Event:
    event = _base_event(uid_for(session.id), session.participant_ref, session.sequence, stamp)
    event.add("dtstart", wall_time(session.start, zone))
    event.add("dtend", wall_time(session.end, zone))
    cancelled = session.status is SessionStatus.CANCELLED
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    return event


def _series_events(series: Series, stamp: datetime, title: str = TITLE) -> list[icalendar.Event]:
    """The master (RRULE, EXDATE) plus one RECURRENCE-ID override per moved occurrence.

    The master's DTSTART uses the series' own zone (normally the peer's):
    that zone is what keeps a feed reader's expansion at the same wall time.
    """
    zone = v.zone(series.tz)
    master = _base_event(uid_for(series.id), series.participant_ref, series.sequence, stamp, title)
    master.add("dtstart", series.first_start_local.replace(tzinfo=zone))
    master.add("duration", series.duration)
    master.add("rrule", _rule(series))
    raw = {o.index: o for o in series.raw_occurrences()}
    if series.cancelled:
        master.add("exdate", [wall_time(raw[i].original_start, zone) for i in sorted(series.cancelled)])
    cancelled = series.status is SeriesStatus.CANCELLED
    master.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    events = [master]
    for override in sorted(series.overrides, key=lambda o: o.index):
        event = _base_event(uid_for(series.id), series.participant_ref, series.sequence, stamp, title)
        event.add("recurrence-id", wall_time(raw[override.index].original_start, zone))
        event.add("dtstart", wall_time(override.interval.start, zone))
        event.add("dtend", wall_time(override.interval.end, zone))
        event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
        events.append(event)
    return events


def _rule(series: Series) -> dict[str, object]:
    """COUNT as given; UNTIL as the UTC start of the last occurrence.

    RFC 5545 requires UNTIL in UTC when DTSTART has a TZID; pinning it to the
    last start avoids any off-by-a-day reading across zones.
    """
    if series.count is not None:
        return {"freq": "weekly", "count": series.count}
    last = series.raw_occurrences()[-1].original_start
    return {"freq": "weekly", "until": last.astimezone(UTC)}
