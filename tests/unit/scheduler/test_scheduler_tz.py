"""Local wall time <-> UTC around daylight-saving changes (2027 dates)."""

from __future__ import annotations

from datetime import UTC, datetime

from alongside.scheduler.domain import tz as tzx
from alongside.scheduler.domain.validation import zone

NY = zone("America/New_York")
BERLIN = zone("Europe/Berlin")


def test_wall_time_in_spring_forward_gap_does_not_exist() -> None:
    assert not tzx.exists(datetime(2027, 3, 14, 2, 30), NY)
    assert not tzx.exists(datetime(2027, 3, 28, 2, 30), BERLIN)
    assert tzx.exists(datetime(2027, 3, 14, 3, 0), NY)
    assert tzx.exists(datetime(2027, 3, 14, 1, 59), NY)


def test_repeated_hour_is_ambiguous_but_resolves_to_first_pass() -> None:
    naive = datetime(2027, 11, 7, 1, 30)
    assert tzx.is_ambiguous(naive, NY)
    assert tzx.to_utc(naive, NY) == datetime(2027, 11, 7, 5, 30, tzinfo=UTC)  # 01:30 EDT
    assert not tzx.is_ambiguous(datetime(2027, 11, 7, 2, 30), NY)


def test_berlin_repeated_hour_resolves_to_summer_time() -> None:
    naive = datetime(2027, 10, 31, 2, 30)
    assert tzx.is_ambiguous(naive, BERLIN)
    assert tzx.to_utc(naive, BERLIN) == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)  # 02:30 CEST


def test_gap_time_is_shifted_by_gap_length_rfc5545() -> None:
    # 02:30 does not exist; RFC 5545 reads it with the offset before the gap: 03:30 EDT.
    assert tzx.to_utc(datetime(2027, 3, 14, 2, 30), NY) == datetime(2027, 3, 14, 7, 30, tzinfo=UTC)


def test_gap_time_clamped_to_transition_instant() -> None:
    transition = datetime(2027, 3, 14, 7, 0, tzinfo=UTC)  # 02:00 EST == 03:00 EDT
    assert tzx.to_utc_clamped(datetime(2027, 3, 14, 2, 30), NY) == transition
    assert tzx.to_utc_clamped(datetime(2027, 3, 14, 2, 0), NY) == transition
    assert tzx.to_utc_clamped(datetime(2027, 3, 28, 2, 15), BERLIN) == datetime(2027, 3, 28, 1, 0, tzinfo=UTC)


def test_clamping_handles_a_skipped_day() -> None:
    apia = zone("Pacific/Apia")  # skipped 30 December 2011 entirely
    assert tzx.to_utc_clamped(datetime(2011, 12, 30, 12, 0), apia) == datetime(2011, 12, 30, 10, 0, tzinfo=UTC)


def test_local_of_never_echoes_a_missing_wall_time() -> None:
    aware = datetime(2027, 3, 14, 2, 30, tzinfo=NY)
    assert tzx.local_of(aware, NY) == datetime(2027, 3, 14, 3, 30)


def test_second_pass_of_repeated_hour_is_not_expressible_as_wall_time() -> None:
    first = datetime(2027, 11, 7, 5, 30, tzinfo=UTC)
    second = datetime(2027, 11, 7, 6, 30, tzinfo=UTC)
    assert tzx.local_of(first, NY) == tzx.local_of(second, NY)
    assert tzx.expressible_as_wall_time(first, NY)
    assert not tzx.expressible_as_wall_time(second, NY)
