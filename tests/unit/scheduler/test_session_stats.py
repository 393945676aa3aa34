"""The scheduler's dashboard figures on tiny instances."""

from __future__ import annotations

from alongside.kit.stats import DAY_MS, WEEK_MS, Bucket, Count, StatsRange
from alongside.scheduler.domain.model import SessionStatus as S
from alongside.scheduler.domain.session_stats import IntakeTime, SessionFact, Sessions, first_sessions, session_stats

MONDAY = 4 * DAY_MS + 100 * WEEK_MS
RNG = StatsRange(MONDAY, MONDAY + 2 * WEEK_MS, Bucket.WEEK)


def test_outcomes_are_counted_per_week_of_their_start() -> None:
    sessions = [SessionFact(MONDAY + h * 3_600_000, S.ATTENDED) for h in range(3)]
    sessions += [SessionFact(MONDAY + DAY_MS, S.NO_SHOW), SessionFact(MONDAY + WEEK_MS, S.CANCELLED)]
    sessions += [SessionFact(MONDAY + WEEK_MS + h, S.BOOKED) for h in range(2)]
    sessions.append(SessionFact(MONDAY + 2 * WEEK_MS, S.ATTENDED))  # the range's end is exclusive
    week0, week1 = session_stats(Sessions.of(sessions), {}, RNG, k=2).outcomes
    assert week0.bucket_start_ms == MONDAY
    assert (week0.attended, week0.no_show, week0.cancelled) == (Count(3, False), Count(0, True), Count(0, False))
    assert (week1.cancelled, week1.booked, week1.attended) == (Count(0, True), Count(2, False), Count(0, False))


def test_the_first_session_is_the_earliest_not_cancelled() -> None:
    sessions = [
        SessionFact(MONDAY, S.CANCELLED, "m1"),
        SessionFact(MONDAY + 2 * DAY_MS, S.NO_SHOW, "m1"),
        SessionFact(MONDAY + 9 * DAY_MS, S.ATTENDED, "m1"),
        SessionFact(MONDAY + DAY_MS, S.BOOKED, "m2"),
        SessionFact(MONDAY, S.ATTENDED, ""),
    ]
    assert first_sessions(Sessions.of(sessions)) == {b"m1": MONDAY + 2 * DAY_MS, b"m2": MONDAY + DAY_MS}


def test_time_to_first_session_by_urgency_with_small_groups_suppressed() -> None:
    sessions = [SessionFact(MONDAY + n * DAY_MS, S.ATTENDED, f"r{n}") for n in range(1, 4)]
    sessions.append(SessionFact(MONDAY + DAY_MS, S.BOOKED, "u1"))
    sessions.append(SessionFact(MONDAY - DAY_MS, S.ATTENDED, "old"))  # first session before the range
    intakes = {f"r{n}".encode(): IntakeTime(MONDAY, "ROUTINE") for n in range(1, 4)}
    intakes |= {b"u1": IntakeTime(MONDAY, "URGENT"), b"old": IntakeTime(MONDAY - WEEK_MS, "ROUTINE")}
    result = session_stats(Sessions.of(sessions), intakes, RNG, k=3).time_to_first_session
    assert result["ROUTINE"].count == Count(3, False)
    assert (result["ROUTINE"].p50_s, result["ROUTINE"].p90_s) == (2 * 86400, 3 * 86400)
    assert result["URGENT"].count == Count(0, True) and result["URGENT"].p50_s == 0


def test_stored_facts_parse_in_bulk_and_a_malformed_one_is_refused() -> None:
    import pytest

    from alongside.scheduler.stats_mappers import sessions_of

    parsed = sessions_of([b"100|A|m1", b"200|B|", b"-5|C|m2"])
    assert parsed.start_ms.tolist() == [100, 200, -5]
    assert bytes(parsed.status) == b"ABC" and parsed.match_id.tolist() == [b"m1", b"", b"m2"]
    assert first_sessions(parsed) == {b"m1": 100}
    with pytest.raises(ValueError):
        sessions_of([b"100|AB|m1"])


def test_intake_records_parse_in_bulk_and_a_bad_one_is_skipped() -> None:
    from alongside.scheduler.stats_mappers import intake_times

    good = {b"m1": b"100|ROUTINE", b"m2": b"-5|URGENT"}
    assert intake_times(good) == {b"m1": IntakeTime(100, "ROUTINE"), b"m2": IntakeTime(-5, "URGENT")}
    assert intake_times({**good, b"m3": b"junk"}) == intake_times(good)
    assert intake_times({}) == {}
