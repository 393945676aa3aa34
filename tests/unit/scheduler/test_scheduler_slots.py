"""FindSlots: earliest first, buffers, time off, daily cap, zones, DST."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from alongside.kit.errors import InvalidArgument
from alongside.scheduler.domain import tz as tzx
from alongside.scheduler.domain.booking import slot_problem
from alongside.scheduler.domain.model import Availability, Interval, Policy, WeeklyWindow
from alongside.scheduler.domain.slots import SlotQuery, align_up, find_slots, policy_query
from alongside.scheduler.domain.validation import zone

HOUR = timedelta(hours=1)
MON, SUN = 0, 6
WEEKDAYS_9_TO_12 = tuple(WeeklyWindow(d, 9 * 60, 12 * 60) for d in range(5))


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


def query(**changes: object) -> SlotQuery:
    """Peer in UTC, weekdays 09-12, one-hour sessions, from Monday 1 March 2027."""
    base: dict[str, object] = {
        "peer": Availability(WEEKDAYS_9_TO_12, "UTC"),
        "participant": None,
        "duration": HOUR,
        "earliest": utc(2027, 3, 1),
        "horizon_end": utc(2027, 3, 8),
        "step": timedelta(minutes=30),
    }
    base.update(changes)
    return SlotQuery(**base)  # type: ignore[arg-type]


def starts(slots: list[Interval]) -> list[datetime]:
    return [s.start for s in slots]


def test_policy_query_applies_lead_time_horizon_and_cap() -> None:
    now = utc(2027, 3, 1, 8, 50)
    q = policy_query(
        peer=Availability(WEEKDAYS_9_TO_12, "UTC"),
        participant=None,
        duration=HOUR,
        now=now,
        policy=Policy(min_lead=timedelta(hours=2), horizon=timedelta(days=14), max_sessions_per_day=3),
    )
    assert (q.earliest, q.horizon_end, q.daily_cap) == (now + timedelta(hours=2), now + timedelta(days=14), 3)
    assert starts(find_slots(q, limit=1)) == [utc(2027, 3, 1, 11)]
    later = utc(2027, 3, 3)
    assert (
        policy_query(peer=q.peer, participant=None, duration=HOUR, now=now, policy=Policy(), not_before=later).earliest
        == later
    )


def test_earliest_slots_first() -> None:
    got = find_slots(query(), limit=3)
    assert starts(got) == [utc(2027, 3, 1, 9), utc(2027, 3, 1, 9, 30), utc(2027, 3, 1, 10)]
    assert all(s.duration == HOUR for s in got)


def test_earliest_is_rounded_up_to_the_grid() -> None:
    got = find_slots(query(earliest=utc(2027, 3, 1, 9, 10)), limit=1)
    assert starts(got) == [utc(2027, 3, 1, 9, 30)]


def test_grid_follows_local_clock_in_half_hour_zone() -> None:
    # 09:10 UTC is 14:40 in Kolkata; the next hourly start is 15:00 local.
    assert align_up(utc(2027, 3, 1, 9, 10), HOUR, zone("Asia/Kolkata")) == utc(2027, 3, 1, 9, 30)


def test_booking_blocks_with_buffer() -> None:
    booked = (Interval(utc(2027, 3, 1, 9), utc(2027, 3, 1, 10)),)
    got = find_slots(query(bookings=booked, buffer=timedelta(minutes=15)), limit=2)
    # 10:00 and 10:15 are inside the buffer; the grid's next start is 10:30.
    assert starts(got) == [utc(2027, 3, 1, 10, 30), utc(2027, 3, 1, 11)]


def test_busy_time_blocks_with_buffer() -> None:
    busy = (Interval(utc(2027, 3, 1, 11, 0), utc(2027, 3, 1, 11, 30)),)
    got = find_slots(query(busy=busy, buffer=timedelta(minutes=30)), limit=5)
    assert utc(2027, 3, 1, 10) not in starts(got)
    assert starts(got)[:1] == [utc(2027, 3, 1, 9)]


def test_time_off_removes_whole_days() -> None:
    off = (Interval(utc(2027, 3, 1), utc(2027, 3, 3)),)
    assert starts(find_slots(query(time_off=off), limit=1)) == [utc(2027, 3, 3, 9)]


def test_daily_cap_counts_existing_bookings() -> None:
    booked = (Interval(utc(2027, 3, 1, 9), utc(2027, 3, 1, 10)), Interval(utc(2027, 3, 1, 10), utc(2027, 3, 1, 11)))
    assert starts(find_slots(query(bookings=booked, daily_cap=2), limit=1)) == [utc(2027, 3, 2, 9)]
    assert starts(find_slots(query(bookings=booked, daily_cap=3), limit=1)) == [utc(2027, 3, 1, 11)]


def test_daily_cap_uses_the_peer_local_day() -> None:
    # Peer in Los Angeles: a booking at 02:00 UTC Tuesday is Monday 18:00 local.
    peer = Availability((WeeklyWindow(MON, 9 * 60, 20 * 60),), "America/Los_Angeles")
    booked = (Interval(utc(2027, 3, 2, 2), utc(2027, 3, 2, 3)),)
    assert find_slots(query(peer=peer, bookings=booked, daily_cap=1), limit=1) == []


def test_participant_in_another_zone_narrows_slots() -> None:
    # Peer 09-12 UTC; participant 05:00-06:30 New York = 10:00-11:30 UTC (EST).
    participant = Availability((WeeklyWindow(MON, 5 * 60, 6 * 60 + 30),), "America/New_York")
    got = find_slots(query(participant=participant), limit=5)
    assert starts(got) == [utc(2027, 3, 1, 10), utc(2027, 3, 1, 10, 30)]


def test_horizon_end_bounds_the_slot_end() -> None:
    got = find_slots(query(horizon_end=utc(2027, 3, 1, 10, 30)), limit=5)
    assert starts(got) == [utc(2027, 3, 1, 9), utc(2027, 3, 1, 9, 30)]


def test_limit_is_respected_and_validated() -> None:
    assert len(find_slots(query(), limit=4)) == 4
    with pytest.raises(InvalidArgument) as err:
        find_slots(query(), limit=0)
    assert err.value.field == "limit"


def test_no_windows_no_slots() -> None:
    assert find_slots(query(peer=Availability((), "UTC")), limit=3) == []


def spring_forward_query(participant: Availability | None) -> SlotQuery:
    peer = Availability((WeeklyWindow(SUN, 0, 6 * 60),), "America/New_York")
    return query(
        peer=peer,
        participant=participant,
        earliest=utc(2027, 3, 14),
        horizon_end=utc(2027, 3, 15),
        step=timedelta(minutes=15),
    )


def assert_no_local_time_in_gap(slots: list[Interval], tz_name: str, day: int) -> None:
    tz = zone(tz_name)
    for slot in slots:
        for instant in (slot.start, slot.end):
            local = tzx.local_of(instant, tz)
            assert tzx.exists(local, tz)
            assert not (local.day == day and local.hour == 2), local


def test_us_spring_forward_offers_nothing_in_skipped_hour() -> None:
    slots = find_slots(spring_forward_query(None), limit=100)
    assert_no_local_time_in_gap(slots, "America/New_York", 14)
    # 00:00-06:00 local is five real hours: 60-min starts from 05:00 to 09:00 UTC.
    assert starts(slots)[0] == utc(2027, 3, 14, 5) and starts(slots)[-1] == utc(2027, 3, 14, 9)
    assert len(slots) == 17


def test_participant_in_other_zone_on_their_spring_forward() -> None:
    # Peer in Berlin (clocks change only on 28 March): 06:00-10:00 CET = 05:00-09:00 UTC.
    # Participant in New York until 02:30 local, which does not exist that day:
    # their window ends at the jump, 07:00 UTC, not at 07:30 UTC.
    peer = Availability((WeeklyWindow(SUN, 6 * 60, 10 * 60),), "Europe/Berlin")
    participant = Availability((WeeklyWindow(SUN, 0, 2 * 60 + 30),), "America/New_York")
    q = query(
        peer=peer,
        participant=participant,
        earliest=utc(2027, 3, 14),
        horizon_end=utc(2027, 3, 15),
        step=timedelta(minutes=15),
    )
    got = find_slots(q, limit=100)
    assert starts(got)[0] == utc(2027, 3, 14, 5) and starts(got)[-1] == utc(2027, 3, 14, 6)
    assert_no_local_time_in_gap(got, "America/New_York", 14)


def test_berlin_spring_forward_offers_nothing_in_skipped_hour() -> None:
    peer = Availability((WeeklyWindow(SUN, 60, 5 * 60),), "Europe/Berlin")
    got = find_slots(
        query(peer=peer, earliest=utc(2027, 3, 28), horizon_end=utc(2027, 3, 29), step=timedelta(minutes=15)), limit=100
    )
    assert_no_local_time_in_gap(got, "Europe/Berlin", 28)
    assert len(got) == 9  # three real hours, 60-minute sessions on a 15-minute grid


def test_fall_back_slots_are_distinct_instants() -> None:
    peer = Availability((WeeklyWindow(SUN, 60, 3 * 60),), "America/New_York")
    got = find_slots(query(peer=peer, earliest=utc(2027, 11, 7), horizon_end=utc(2027, 11, 8)), limit=100)
    assert len(set(starts(got))) == len(got)
    assert starts(got)[0] == utc(2027, 11, 7, 5)  # 01:00 EDT, the first pass
    assert starts(got)[-1] == utc(2027, 11, 7, 7)  # 02:00 EST: three real hours in the window


def random_query(rng: random.Random) -> SlotQuery:
    zones = ("UTC", "America/New_York", "Europe/Berlin", "Asia/Kolkata")
    day = rng.randrange(7)
    begin = rng.randrange(0, 20) * 60
    peer = Availability((WeeklyWindow(day, begin, begin + rng.choice((120, 240))),), rng.choice(zones))
    earliest = utc(2027, 3, 8) + timedelta(minutes=rng.randrange(0, 600))
    bookings = tuple(
        Interval(s, s + HOUR) for s in (utc(2027, 3, 8) + timedelta(hours=rng.randrange(0, 400)) for _ in range(15))
    )
    return SlotQuery(
        peer=peer,
        participant=None,
        duration=timedelta(minutes=rng.choice((30, 45, 60))),
        earliest=earliest,
        horizon_end=earliest + timedelta(days=21),
        buffer=timedelta(minutes=rng.choice((0, 15))),
        step=timedelta(minutes=15),
        daily_cap=rng.choice((None, 1, 2)),
        bookings=bookings,
        time_off=(Interval(earliest + timedelta(days=3), earliest + timedelta(days=4)),),
    )


def test_find_slots_agrees_with_checking_every_grid_start() -> None:
    rng = random.Random(20270314)
    for _ in range(25):
        q = random_query(rng)
        expected: list[Interval] = []
        start = align_up(q.earliest, q.step, zone(q.peer.tz))
        while start + q.duration <= q.horizon_end and len(expected) < 5:
            if slot_problem(q, Interval(start, start + q.duration)) is None:
                expected.append(Interval(start, start + q.duration))
            start += q.step
        assert find_slots(q, limit=5) == expected
