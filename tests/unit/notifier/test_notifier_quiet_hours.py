"""deliver_at across zones, windows wrapping midnight, and DST days."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from alongside.notifier.domain.model import ContactPreferences, QuietHours, Urgency
from alongside.notifier.domain.quiet_hours import (
    deliver_at,
    first_instant_at,
    in_quiet_hours,
    quiet_window_end,
)

NIGHT = QuietHours(time(22, 0), time(7, 0))
LA = ZoneInfo("America/Los_Angeles")


def _peer(zone: str, window: QuietHours | None = NIGHT) -> ContactPreferences:
    return ContactPreferences(peer_id=f"peer-{zone}", timezone=zone, quiet_hours=window)


def _utc(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_same_instant_is_night_in_los_angeles_and_day_in_tokyo() -> None:
    now = _utc(2024, 6, 1, 6, 0)  # 23:00 PDT on 31 May; 15:00 JST on 1 June
    assert deliver_at(now, _peer("America/Los_Angeles"), Urgency.ROUTINE) == _utc(2024, 6, 1, 14, 0)
    assert deliver_at(now, _peer("Asia/Tokyo"), Urgency.ROUTINE) == now


def test_same_instant_is_day_in_los_angeles_and_night_in_tokyo() -> None:
    now = _utc(2024, 6, 1, 14, 0)  # 07:00 PDT, the window's end; 23:00 JST
    assert deliver_at(now, _peer("America/Los_Angeles"), Urgency.ROUTINE) == now
    assert deliver_at(now, _peer("Asia/Tokyo"), Urgency.ROUTINE) == _utc(2024, 6, 1, 22, 0)


def test_urgent_goes_out_immediately_inside_quiet_hours() -> None:
    now = _utc(2024, 6, 1, 6, 0)
    for zone in ("America/Los_Angeles", "Asia/Tokyo", "UTC"):
        assert deliver_at(now, _peer(zone), Urgency.URGENT) == now


def test_no_quiet_hours_means_now() -> None:
    now = _utc(2024, 6, 1, 6, 0)
    assert deliver_at(now, _peer("America/Los_Angeles", None), Urgency.ROUTINE) == now


def test_wrapping_window_after_midnight_closes_the_same_local_day() -> None:
    now = _utc(2024, 6, 1, 10, 0)  # 03:00 PDT
    assert deliver_at(now, _peer("America/Los_Angeles"), Urgency.ROUTINE) == _utc(2024, 6, 1, 14, 0)


def test_wrapping_window_before_midnight_closes_the_next_local_day() -> None:
    now = _utc(2024, 12, 31, 22, 30)  # 23:30 in Madrid on New Year's Eve
    prefs = _peer("Europe/Madrid")
    assert deliver_at(now, prefs, Urgency.ROUTINE) == _utc(2025, 1, 1, 6, 0)


def test_window_within_a_day() -> None:
    nap = QuietHours(time(13, 0), time(15, 30))
    prefs = _peer("Asia/Tokyo", nap)
    assert deliver_at(_utc(2024, 6, 1, 5, 0), prefs, Urgency.ROUTINE) == _utc(2024, 6, 1, 6, 30)
    assert deliver_at(_utc(2024, 6, 1, 7, 0), prefs, Urgency.ROUTINE) == _utc(2024, 6, 1, 7, 0)


def test_spring_forward_night_is_an_hour_shorter() -> None:
    # 10 March 2024: Los Angeles jumps from 02:00 PST to 03:00 PDT.
    now = _utc(2024, 3, 10, 8, 0)  # 00:00 PST
    assert deliver_at(now, _peer("America/Los_Angeles"), Urgency.ROUTINE) == _utc(2024, 3, 10, 14, 0)


def test_fall_back_night_is_an_hour_longer() -> None:
    # 3 November 2024: Los Angeles falls back from 02:00 PDT to 01:00 PST.
    now = _utc(2024, 11, 3, 7, 0)  # 00:00 PDT
    assert deliver_at(now, _peer("America/Los_Angeles"), Urgency.ROUTINE) == _utc(2024, 11, 3, 15, 0)


def test_window_ending_inside_the_spring_gap_opens_when_the_gap_ends() -> None:
    # 02:30 never happens on 10 March in Los Angeles; the clock reads 03:00 PDT at 10:00 UTC.
    prefs = _peer("America/Los_Angeles", QuietHours(time(22, 0), time(2, 30)))
    now = _utc(2024, 3, 10, 9, 0)  # 01:00 PST
    assert deliver_at(now, prefs, Urgency.ROUTINE) == _utc(2024, 3, 10, 10, 0)


def test_window_ending_in_the_repeated_hour_uses_the_first_end_then_the_second() -> None:
    prefs = _peer("America/Los_Angeles", QuietHours(time(22, 0), time(1, 30)))
    first_pass = _utc(2024, 11, 3, 8, 0)  # 01:00 PDT
    assert deliver_at(first_pass, prefs, Urgency.ROUTINE) == _utc(2024, 11, 3, 8, 30)
    second_pass = _utc(2024, 11, 3, 9, 10)  # 01:10 PST, the clock is back in the window
    assert deliver_at(second_pass, prefs, Urgency.ROUTINE) == _utc(2024, 11, 3, 9, 30)


def test_deferral_never_passes_the_deadline() -> None:
    now = _utc(2024, 6, 1, 6, 0)  # 23:00 PDT; window opens at 14:00 UTC
    prefs = _peer("America/Los_Angeles")
    assert deliver_at(now, prefs, Urgency.ROUTINE, deadline=_utc(2024, 6, 1, 13, 0)) == now
    assert deliver_at(now, prefs, Urgency.ROUTINE, deadline=_utc(2024, 6, 1, 14, 0)) == now
    late = _utc(2024, 6, 2, 0, 0)
    assert deliver_at(now, prefs, Urgency.ROUTINE, deadline=late) == _utc(2024, 6, 1, 14, 0)


def test_results_are_utc_even_for_a_local_now() -> None:
    now = datetime(2024, 6, 1, 9, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    result = deliver_at(now, _peer("Asia/Tokyo"), Urgency.URGENT)
    assert result.utcoffset() == timedelta(0)
    assert result == now


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError):
        deliver_at(datetime(2024, 6, 1, 6, 0), _peer("UTC"), Urgency.ROUTINE)


def test_in_quiet_hours_reads_the_local_clock() -> None:
    assert in_quiet_hours(_utc(2024, 6, 1, 6, 0), NIGHT, LA)
    assert not in_quiet_hours(_utc(2024, 6, 1, 6, 0), NIGHT, ZoneInfo("Asia/Tokyo"))
    assert quiet_window_end(_utc(2024, 6, 1, 20, 0), NIGHT, LA) is None  # 13:00 PDT


def test_first_instant_at_an_ordinary_wall_time() -> None:
    day = datetime(2024, 6, 1).date()
    got = first_instant_at(day, time(7, 0), LA, not_before=_utc(2024, 6, 1, 0, 0))
    assert got == _utc(2024, 6, 1, 14, 0)


def test_every_minute_of_a_dst_week_defers_to_an_instant_outside_the_window() -> None:
    # Property check over both LA transitions: the result is never before now,
    # is outside the window on the local clock, and nothing earlier qualifies.
    prefs = _peer("America/Los_Angeles", QuietHours(time(1, 30), time(2, 30)))
    for start in (_utc(2024, 3, 9, 8, 0), _utc(2024, 11, 2, 8, 0)):
        for minute in range(0, 3 * 24 * 60, 7):
            now = start + timedelta(minutes=minute)
            got = deliver_at(now, prefs, Urgency.ROUTINE)
            assert got >= now
            assert not in_quiet_hours(got, prefs.quiet_hours, LA)  # type: ignore[arg-type]
            if got > now:
                assert in_quiet_hours(got - timedelta(seconds=1), prefs.quiet_hours, LA)  # type: ignore[arg-type]
