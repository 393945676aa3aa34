"""Model vocabulary: event-to-kind mapping, quiet-window membership, defaults."""

from __future__ import annotations

from datetime import time

import pytest

from alongside.notifier.domain.model import (
    ALL_KINDS,
    Channel,
    Kind,
    QuietHours,
    default_preferences,
    kind_for_event,
)


@pytest.mark.parametrize(
    ("event_type", "kind"),
    [
        ("match.accepted", Kind.ASSIGNMENT_NEW),
        ("alongside.match.accepted", Kind.ASSIGNMENT_NEW),
        ("alongside.session.booked", Kind.SESSION_BOOKED),
        ("alongside.session.rescheduled", Kind.SESSION_RESCHEDULED),
        ("alongside.session.cancelled", Kind.SESSION_CANCELLED),
        ("alongside.session.reminder_due", Kind.SESSION_REMINDER),
        ("alongside.match.closed", Kind.MATCH_CLOSED),
        ("alongside.match.caseload_imported", Kind.CASELOAD_IMPORTED),
        ("alongside.session.group.enrolled", Kind.GROUP_ENROLMENT),
        ("alongside.session.group.promoted", Kind.GROUP_PROMOTED),
        ("alongside.session.group.reminder_due", Kind.GROUP_REMINDER),
    ],
)
def test_each_notified_event_maps_to_its_kind(event_type: str, kind: Kind) -> None:
    assert kind_for_event(event_type) is kind


@pytest.mark.parametrize("event_type", ["alongside.peer.updated", "match.declined", "match.imported", ""])
def test_other_events_are_not_notified(event_type: str) -> None:
    assert kind_for_event(event_type) is None


def test_every_kind_has_an_event() -> None:
    kinds = {kind_for_event(e) for e in ("match.accepted", "match.closed", "match.caseload_imported")} | {
        kind_for_event(f"session.{e}")
        for e in (
            "booked",
            "rescheduled",
            "cancelled",
            "reminder_due",
            "group.enrolled",
            "group.promoted",
            "group.reminder_due",
        )
    }
    assert kinds == ALL_KINDS


def test_window_within_a_day_is_half_open() -> None:
    nap = QuietHours(time(13, 0), time(15, 0))
    assert not nap.wraps_midnight
    assert nap.contains(time(13, 0))
    assert nap.contains(time(14, 59))
    assert not nap.contains(time(15, 0))
    assert not nap.contains(time(12, 59))


def test_window_wrapping_midnight_covers_both_sides() -> None:
    night = QuietHours(time(22, 0), time(7, 0))
    assert night.wraps_midnight
    assert night.contains(time(22, 0))
    assert night.contains(time(23, 59))
    assert night.contains(time(0, 0))
    assert night.contains(time(6, 59))
    assert not night.contains(time(7, 0))
    assert not night.contains(time(21, 59))


def test_defaults_are_inbox_all_kinds_english_utc_no_quiet_hours() -> None:
    prefs = default_preferences("peer-1")
    assert prefs.peer_id == "peer-1"
    assert prefs.channels == frozenset({Channel.INBOX})
    assert prefs.kinds == ALL_KINDS
    assert (prefs.language, prefs.timezone) == ("en", "UTC")
    assert prefs.quiet_hours is None
    assert prefs.email is None and prefs.webhook_url is None
