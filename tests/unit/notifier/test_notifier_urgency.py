"""Urgency rules: the event's flag wins; a session starting within 2 h is urgent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alongside.notifier.domain.model import SESSION_KINDS, Kind, Urgency
from alongside.notifier.domain.urgency import URGENT_HORIZON, classify_urgency

NOW = datetime(2024, 12, 3, 9, 0, tzinfo=UTC)


def test_flagged_events_are_urgent_whatever_the_kind() -> None:
    for kind in Kind:
        assert classify_urgency(kind, now=NOW, flagged_urgent=True) is Urgency.URGENT


@pytest.mark.parametrize("kind", sorted(SESSION_KINDS))
def test_session_news_within_the_horizon_is_urgent(kind: Kind) -> None:
    soon = NOW + timedelta(hours=1)
    assert classify_urgency(kind, now=NOW, session_start=soon) is Urgency.URGENT
    assert classify_urgency(kind, now=NOW, session_start=NOW + URGENT_HORIZON) is Urgency.URGENT


@pytest.mark.parametrize("kind", sorted(SESSION_KINDS))
def test_session_news_beyond_the_horizon_is_routine(kind: Kind) -> None:
    later = NOW + URGENT_HORIZON + timedelta(seconds=1)
    assert classify_urgency(kind, now=NOW, session_start=later) is Urgency.ROUTINE


def test_a_session_already_started_is_urgent() -> None:
    started = NOW - timedelta(minutes=10)
    assert classify_urgency(Kind.SESSION_CANCELLED, now=NOW, session_start=started) is Urgency.URGENT


def test_non_session_kinds_ignore_the_start_time() -> None:
    soon = NOW + timedelta(minutes=5)
    for kind in (Kind.ASSIGNMENT_NEW, Kind.MATCH_CLOSED):
        assert classify_urgency(kind, now=NOW, session_start=soon) is Urgency.ROUTINE


def test_unknown_start_is_routine() -> None:
    assert classify_urgency(Kind.SESSION_REMINDER, now=NOW) is Urgency.ROUTINE
