"""The scheduler's storage codec, ids, settings and reminder-id parsing (no network)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from alongside.kit.errors import InvalidArgument
from alongside.kit.settings import ConfigError
from alongside.kit.testing.auth import AUTH_ENV
from alongside.scheduler.adapters.codec import (
    booked_member,
    decode_calendar,
    decode_series,
    decode_session,
    encode_series,
    encode_session,
    index_member,
)
from alongside.scheduler.adapters.commit import Commit, outcome_of
from alongside.scheduler.adapters.keys import occurrence_of, peer_of
from alongside.scheduler.domain.model import Interval, Session, SessionStatus
from alongside.scheduler.domain.recurrence import Override, Series
from alongside.scheduler.domain.validation import zone
from alongside.scheduler.service.change import day_bounds
from alongside.scheduler.service.reminders import parse_reminder_id, still_wanted
from alongside.scheduler.settings import SchedulerSettings

START = datetime(2027, 3, 2, 15, tzinfo=UTC)


def session(**changes: object) -> Session:
    base = Session("p1~s1", "p1", "ref-1", START, START + timedelta(minutes=45), match_id="m1", participant_tz="UTC")
    return base.with_changes(**changes)


def test_session_round_trip_keeps_every_field() -> None:
    gone = session(status=SessionStatus.CANCELLED, cancel_reason="MATCH_CLOSED", sequence=3)
    occurrence = session(id="p1~r1.2", series_id="p1~r1", occurrence_index=2)
    for original in (session(), gone, occurrence):
        assert decode_session(encode_session(original)) == original


def test_series_round_trip() -> None:
    series = Series(
        id="p1~r1",
        peer_id="p1",
        participant_ref="ref",
        tz="America/New_York",
        first_start_local=datetime(2027, 3, 8, 10),
        duration=timedelta(minutes=45),
        until=date(2027, 4, 5),
        cancelled=frozenset({1}),
        overrides=(Override(2, Interval(START, START + timedelta(minutes=45))),),
        sequence=2,
        match_id="m1",
    )
    assert decode_series(encode_series(series)) == series


def test_index_members_sort_by_start_then_id() -> None:
    tomorrow = START + timedelta(days=1)
    early, late = session(), session(id="p1~s0", start=tomorrow, end=tomorrow + timedelta(hours=1))
    assert sorted([index_member(late), index_member(early)]) == [index_member(early), index_member(late)]
    assert booked_member(early) == f"p1~s1|{int((START + timedelta(minutes=45)).timestamp() * 1000)}"


def test_calendar_without_windows_is_not_known() -> None:
    status_only = decode_calendar("p1", {b"active": b"1", b"sv": b"4"})
    assert status_only is not None and not status_only.known and status_only.active
    assert decode_calendar("p1", {}) is None


def test_ids_name_their_peer() -> None:
    assert peer_of("p.1~s00") == "p.1"
    assert occurrence_of("p.1~r00.12") == ("p.1~r00", 12)
    assert occurrence_of("p.1~s00") is None
    with pytest.raises(InvalidArgument, match="session_id"):
        peer_of("no-separator")


def test_script_replies_become_outcomes() -> None:
    assert outcome_of([b"conflict", 3]).index == 2
    assert outcome_of([b"conflict", 1, b"100", b"200"]).taken == (100, 200)
    assert outcome_of([b"replay", b"fp", b"r"]).response == b"r"
    assert outcome_of([b"ok"]).kind == "ok"


def test_commit_passes_each_key_once_and_blobs_packed_after_the_spec() -> None:
    commit = Commit()
    commit.hset("k1", "a", b"x")
    commit.hset("k1", "b", b"yz")
    keys, argv = commit.args()
    assert keys == ["k1"] and argv[1:] == [b"xyz"]
    assert json.loads(argv[0])["sizes"] == [1, 2]


def test_a_change_day_is_23_hours_long() -> None:
    start, end = day_bounds(date(2027, 3, 14), zone("America/New_York"))
    assert end - start == 23 * 3_600_000


def test_reminder_ids_parse_and_stale_ones_are_dropped() -> None:
    assert parse_reminder_id("p1~s1:60m:2") == ("p1~s1", timedelta(minutes=60), 2)
    assert parse_reminder_id("garbage") is None
    now = START - timedelta(hours=1)
    assert still_wanted(session(sequence=2), 2, now)
    assert not still_wanted(session(sequence=3), 2, now)
    assert not still_wanted(session(status=SessionStatus.CANCELLED), 0, now)
    assert not still_wanted(session(), 0, START + timedelta(hours=1))


def test_settings_build_the_policy_and_name_bad_variables() -> None:
    settings = SchedulerSettings.from_env(
        {**AUTH_ENV, "SESSION_TYPES": "intake=50,check_in=20", "REMINDER_OFFSETS_MINUTES": "30"}
    )
    policy = settings.policy()
    assert policy.session_type("intake").minutes == 50
    assert policy.reminder_offsets == (timedelta(minutes=30),)
    with pytest.raises(ConfigError, match="SESSION_TYPES"):
        SchedulerSettings.from_env({**AUTH_ENV, "SESSION_TYPES": "intake"})
    with pytest.raises(ConfigError, match="FIRST_SESSION_TYPE"):
        SchedulerSettings.from_env({**AUTH_ENV, "SESSION_TYPES": "check_in=30"})
    with pytest.raises(ConfigError, match="BUFFER_MINUTES"):
        SchedulerSettings.from_env({**AUTH_ENV, "BUFFER_MINUTES": "-1"})
