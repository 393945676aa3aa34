"""Sessions and series carry the match they serve and the participant's zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alongside.scheduler.domain.model import Session
from alongside.scheduler.domain.recurrence import Series
from alongside.scheduler.domain.series_edit import split, to_sessions


def series() -> Series:
    return Series(
        id="p1~s",
        peer_id="p1",
        participant_ref="ref-1",
        tz="America/New_York",
        first_start_local=datetime(2027, 3, 1, 10),
        duration=timedelta(minutes=45),
        count=3,
        match_id="m-1",
        participant_tz="Europe/Berlin",
    )


def test_session_defaults_have_no_match() -> None:
    start = datetime(2027, 3, 1, 15, tzinfo=UTC)
    session = Session("p1~a", "p1", "ref", start, start + timedelta(hours=1))
    assert session.match_id is None and session.participant_tz is None


def test_occurrences_inherit_the_match_and_zone() -> None:
    sessions = to_sessions(series())
    assert {(s.match_id, s.participant_tz) for s in sessions} == {("m-1", "Europe/Berlin")}


def test_split_keeps_the_match_and_zone() -> None:
    _, new = split(series(), 1, "p1~t")
    assert (new.match_id, new.participant_tz) == ("m-1", "Europe/Berlin")
