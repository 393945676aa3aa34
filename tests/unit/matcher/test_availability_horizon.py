"""Availability over the engagement horizon: a session must fit in every clock-change regime.

Pure domain, no servers. The zone pairs change clocks on different dates:
Chicago moves in March and Phoenix never; New York moves two weeks before
London; Los Angeles moves forward in March while Sydney moves back in April.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alongside.kit.clock_changes import offset_changes, regimes
from alongside.matcher.domain.constraints import availability_overlap
from alongside.matcher.domain.feasibility import funnel
from alongside.matcher.domain.model import WeeklyWindow
from alongside.matcher.domain.query import compile_query
from alongside.matcher.domain.roster_index import RosterIndex
from alongside.matcher.domain.shortlist import shortlist
from alongside.matcher.domain.weights import Criterion, Weights
from tests.unit.matcher.test_model import participant, peer, request

DECEMBER = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
APRIL = datetime(2027, 4, 5, 15, 0, tzinfo=UTC)
ENGAGEMENT = timedelta(weeks=26)
TODAY = timedelta(0)
MON, TUE, SUN = 0, 1, 6
WEEKDAYS = range(5)


def hours(day: int, start: float, end: float) -> WeeklyWindow:
    return WeeklyWindow(day, round(start * 60), round(end * 60))


def weekdays(start: float, end: float) -> tuple[WeeklyWindow, ...]:
    return tuple(hours(d, start, end) for d in WEEKDAYS)


def pair(mine: tuple[WeeklyWindow, ...], my_zone: str, theirs: tuple[WeeklyWindow, ...], their_zone: str,
         minutes: int) -> tuple[RosterIndex, object]:  # fmt: skip
    index = RosterIndex([peer("p1", availability=theirs, time_zone=their_zone)])
    req = request(participant=participant(availability=mine, time_zone=my_zone), session_minutes=minutes)
    return index, req


def available(*args: object, now: datetime = DECEMBER, horizon: timedelta = ENGAGEMENT) -> bool:
    index, req = pair(*args)  # type: ignore[arg-type]
    mask = availability_overlap(index, compile_query(index, req, now=now, horizon=horizon))  # type: ignore[arg-type]
    assert mask is not None
    return bool(mask[0])


CHICAGO_8_930 = (weekdays(8, 9.5), "America/Chicago")
PHOENIX_7_9 = (weekdays(7, 9), "America/Phoenix")


def test_the_issue_example_a_december_match_that_march_would_break() -> None:
    # 90 minutes a day in December; from 14 March 2027 Chicago is an hour closer to UTC: 30 minutes.
    assert available(*CHICAGO_8_930, *PHOENIX_7_9, 60, horizon=TODAY)
    assert not available(*CHICAGO_8_930, *PHOENIX_7_9, 60)
    assert available(*CHICAGO_8_930, *PHOENIX_7_9, 30)
    # Once both regimes are behind, the summer regime alone decides.
    assert not available(*CHICAGO_8_930, *PHOENIX_7_9, 60, now=APRIL)


def test_the_explanation_says_when_the_overlap_shrinks() -> None:
    index, req = pair(*CHICAGO_8_930, *PHOENIX_7_9, 30)
    result = shortlist(index, req, k=1, weights=Weights(), now=DECEMBER)  # type: ignore[arg-type]
    why = next(c for c in result.candidates[0].contributions if c.criterion == Criterion.AVAILABILITY)
    assert why.text == "Available together 7 h 30 min a week until 14 March 2027, then 2 h 30 min"
    assert why.phrase is not None
    assert why.phrase.template == "{before} until {until}, then {then}"
    before, until, then = why.phrase.args
    assert before.phrase is not None and before.phrase.template == "Available together {duration} a week"
    assert (until.kind, until.values, then.values) == ("date", ("2027-03-14",), ("2 h 30 min",))
    # The score weighs the leanest regime: 2 h 30 of the participant's 7 h 30.
    assert why.points == why.max_points * (150 / 450)


def test_an_overlap_that_holds_all_engagement_is_said_once() -> None:
    # Chicago 08:00-12:00 is 14:00-18:00 UTC, then 13:00-17:00; Phoenix 06:00-12:00 is 13:00-19:00 UTC.
    index, req = pair(weekdays(8, 12), "America/Chicago", weekdays(6, 12), "America/Phoenix", 60)
    result = shortlist(index, req, k=1, weights=Weights(), now=DECEMBER)  # type: ignore[arg-type]
    why = next(c for c in result.candidates[0].contributions if c.criterion == Criterion.AVAILABILITY)
    assert why.text == "Available together 20 h a week"
    # Phoenix 07:00-11:00 (14:00-18:00 UTC) keeps 3 of the 4 hours a day after March.
    index, req = pair(weekdays(8, 12), "America/Chicago", weekdays(7, 11), "America/Phoenix", 60)
    result = shortlist(index, req, k=1, weights=Weights(), now=DECEMBER)  # type: ignore[arg-type]
    why = next(c for c in result.candidates[0].contributions if c.criterion == Criterion.AVAILABILITY)
    assert why.text == "Available together 20 h a week until 14 March 2027, then 15 h"


def test_the_waiting_list_funnel_names_availability_with_its_counts() -> None:
    index, req = pair(*CHICAGO_8_930, *PHOENIX_7_9, 60)
    result = shortlist(index, req, k=1, weights=Weights(), now=DECEMBER)  # type: ignore[arg-type]
    assert not result.candidates and result.reason is not None
    assert result.reason.constraint == "availability"
    step = next(c for c in result.reason.funnel if c.constraint == "availability")
    assert (step.remaining, step.of) == (0, 1)
    assert step.text == "Free at the same time for a 60-minute session each week: 0 of 1"


def test_new_york_and_london_three_weeks_apart_in_march() -> None:
    new_york_9, london_2_4 = (weekdays(9, 10), "America/New_York"), (weekdays(14, 16), "Europe/London")
    # December: 14:00 UTC both. 14-28 March: New York at 13:00 UTC, London still 14:00. Then both at 13:00.
    assert available(*new_york_9, *london_2_4, 60, horizon=TODAY)
    assert not available(*new_york_9, *london_2_4, 60)
    assert available(*new_york_9, *london_2_4, 60, now=APRIL)  # both on summer time until late October
    assert [c.date().isoformat() for c in regimes_of("America/New_York", "Europe/London")] == [
        "2027-03-14", "2027-03-28"]  # fmt: skip


def regimes_of(*zones: str) -> list[datetime]:
    return [r.start for r in regimes(zones, DECEMBER, ENGAGEMENT)[1:]]


def test_sydney_and_los_angeles_move_in_opposite_directions() -> None:
    # Monday 08:00 in Sydney is Sunday evening in UTC: the week's end is crossed too.
    sydney_monday_8 = ((hours(MON, 8, 9),), "Australia/Sydney")
    # Sunday 21:00 UTC is 13:00 in Los Angeles in December, 14:00 from 14 March, then 15:00 from 4 April.
    assert available(*sydney_monday_8, (hours(SUN, 12, 16),), "America/Los_Angeles", 60)
    assert not available(*sydney_monday_8, (hours(SUN, 12, 15),), "America/Los_Angeles", 60)
    assert available(*sydney_monday_8, (hours(SUN, 12, 15),), "America/Los_Angeles", 60, horizon=TODAY)
    assert [c.date().isoformat() for c in regimes_of("Australia/Sydney", "America/Los_Angeles")] == [
        "2027-03-14", "2027-04-03"]  # fmt: skip


def test_windows_that_cross_local_midnight() -> None:
    # 23:00-01:00 in Chicago is 05:00-07:00 UTC in December and 04:00-06:00 from March;
    # 22:00-00:30 in Phoenix is 05:00-07:30 UTC all year: 2 h, then 1 h.
    late_chicago = ((hours(MON, 23, 24), hours(TUE, 0, 1)), "America/Chicago")
    late_phoenix = ((hours(MON, 22, 24), hours(TUE, 0, 0.5)), "America/Phoenix")
    assert available(*late_chicago, *late_phoenix, 90, horizon=TODAY)
    assert not available(*late_chicago, *late_phoenix, 90)
    assert available(*late_chicago, *late_phoenix, 60)


def test_clock_changes_are_found_to_the_second() -> None:
    changes = offset_changes("America/Chicago", DECEMBER, DECEMBER + ENGAGEMENT)
    assert changes == (datetime(2027, 3, 14, 8, 0, tzinfo=UTC),)  # 02:00 CST
    assert offset_changes("America/Phoenix", DECEMBER, DECEMBER + ENGAGEMENT) == ()
    assert [r.offsets for r in regimes(("America/Chicago", "America/Phoenix"), DECEMBER, ENGAGEMENT)] == [
        (-360, -420), (-300, -420)]  # fmt: skip
    assert len(regimes(("America/Chicago",), DECEMBER, TODAY)) == 1


def test_a_batch_sees_the_same_rule() -> None:
    from alongside.matcher.domain.pair_matrices import pair_matrices

    index, req = pair(*CHICAGO_8_930, *PHOENIX_7_9, 60)
    assert not pair_matrices(index, [req], weights=Weights(), now=DECEMBER).feasible[0, 0]  # type: ignore[list-item]
    assert pair_matrices(index, [req], weights=Weights(), now=DECEMBER, horizon=TODAY).feasible[0, 0]  # type: ignore[list-item]
    steps = funnel(index, compile_query(index, req, now=DECEMBER))  # type: ignore[arg-type]
    assert [s.remaining for s in steps if s.constraint == "availability"] == [0]


def test_the_horizon_setting_is_checked_at_start_up() -> None:
    import pytest

    from alongside.kit.settings import ConfigError
    from alongside.kit.testing.auth import TEST_AUTH
    from alongside.matcher.settings import MatcherSettings

    assert MatcherSettings.from_env({}, **TEST_AUTH).engagement_horizon_weeks == 26
    assert MatcherSettings.from_env({"ENGAGEMENT_HORIZON_WEEKS": "0"}, **TEST_AUTH).engagement_horizon_weeks == 0
    with pytest.raises(ConfigError, match="ENGAGEMENT_HORIZON_WEEKS"):
        MatcherSettings.from_env({"ENGAGEMENT_HORIZON_WEEKS": "105"}, **TEST_AUTH)


def test_zones_that_change_the_same_night_stay_available() -> None:
    # New York moves at 07:00 UTC and Chicago at 08:00 UTC on 14 March: for that hour they are two hours
    # apart, which no weekly session feels. Monday 09:00 in New York is 08:00 in Chicago all year.
    assert available((hours(MON, 9, 10),), "America/New_York", (hours(MON, 8, 9),), "America/Chicago", 60)


def test_a_window_across_a_change_keeps_its_real_hours() -> None:
    from alongside.matcher.domain import availability as av

    week = av.week_start(datetime(2026, 3, 4, tzinfo=UTC))  # Sunday 8 March 2026: US clocks go forward
    plan = av.week_plan("America/New_York", week)
    change = (6 * 24 + 7) * 4  # Sunday 07:00 UTC, in slots
    assert plan == ((-300, 0, change), (-240, change, av.SLOTS_PER_WEEK))
    # 01:00 EST (06:00 UTC) to 04:00 EDT (08:00 UTC): two real hours.
    sunday = SUN * av.MINUTES_PER_DAY
    bits = av.plan_bits((hours(SUN, 1, 4),), plan)
    assert bits == av.slot_bits((hours(SUN, 1, 3),), -300)  # 06:00-08:00 UTC
    assert bits.bit_count() * av.SLOT_MINUTES == 120 and (bits >> ((sunday + 6 * 60) // 15)) & 1


def test_the_explanation_names_each_change_of_new_york_and_london() -> None:
    # 09:00-11:00 in New York against 14:00-16:00 in London: 2 h a day, 1 h while only New York has moved.
    index, req = pair(weekdays(9, 11), "America/New_York", weekdays(14, 16), "Europe/London", 60)
    result = shortlist(index, req, k=1, weights=Weights(), now=DECEMBER)  # type: ignore[arg-type]
    why = next(c for c in result.candidates[0].contributions if c.criterion == Criterion.AVAILABILITY)
    assert why.text == "Available together 10 h a week until 14 March 2027, then 5 h until 28 March 2027, then 10 h"


def test_a_week_holds_the_real_instants_of_its_hours() -> None:
    from alongside.matcher.domain import availability as av

    # Los Angeles moves on Sunday 14 March. In the UTC week from Monday 8 March, Sunday 20:00-24:00 wraps
    # to the week's first hours: those are Sunday 7 March evening in Los Angeles, still on PST (04:00-08:00
    # UTC); the evening of the 14th, on PDT, falls in the next week.
    week = datetime(2027, 3, 8, tzinfo=UTC)
    bits = av.plan_bits((hours(SUN, 20, 24),), av.week_plan("America/Los_Angeles", week))
    assert bits == sum(1 << slot for slot in range(4 * 4, 8 * 4))
