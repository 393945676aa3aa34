"""FindSlots latency over a 4-week horizon, against a naive per-slot scan.

Run: ``python bench/scheduler_slots.py`` (300 peers) or ``--quick``.

The calendars are synthetic but shaped like a programme's: peers in US and
European zones with 3-5 working days of one or two 2-4 hour windows, a
handful of existing bookings each, some time off; participants in their own
zones with daytime or evening windows. Each call asks for the 10 earliest
slots of a random session type with a random peer.

Baseline: check every 15-minute start in the horizon with the booking-time
rule check (``slot_problem``), one by one. Both must return the same slots;
the run fails loudly if they differ.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from alongside.scheduler.domain.booking import slot_problem
from alongside.scheduler.domain.intervals import conflicts
from alongside.scheduler.domain.model import Availability, Interval, Policy, WeeklyWindow
from alongside.scheduler.domain.slots import SlotQuery, align_up, find_slots, iter_slots
from alongside.scheduler.domain.validation import zone

ZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "Europe/London",
    "Europe/Berlin",
)
START = datetime(2027, 3, 1, 12, tzinfo=UTC)  # spans US and EU spring-forward
POLICY = Policy()


@dataclass(frozen=True)
class Peer:
    peer_id: str
    availability: Availability
    bookings: tuple[Interval, ...]
    time_off: tuple[Interval, ...]


def peer_windows(rng: random.Random) -> tuple[WeeklyWindow, ...]:
    """3-5 weekdays, each with one or two 2-4 hour windows from 08:00."""
    windows = []
    for day in sorted(rng.sample(range(6), rng.randint(3, 5))):
        start = rng.choice(range(8 * 60, 12 * 60 + 1, 30))
        for _ in range(rng.randint(1, 2)):
            end = min(start + rng.choice((120, 180, 240)), 22 * 60)
            windows.append(WeeklyWindow(day, start, end))
            start = end + 60
            if start >= 21 * 60:
                break
    return tuple(windows)


def participant(rng: random.Random, tz: str | None = None) -> Availability:
    """Daytime or evening windows on 2-5 days, in ``tz`` or a random zone."""
    begin, end = rng.choice(((9 * 60, 17 * 60), (17 * 60, 21 * 60), (10 * 60, 14 * 60)))
    days = rng.sample(range(7), rng.randint(2, 5))
    return Availability(tuple(WeeklyWindow(d, begin, end) for d in sorted(days)), tz or rng.choice(ZONES))


def make_peers(count: int, horizon: timedelta, seed: int = 1) -> list[Peer]:
    """Peers with 5-20 existing bookings over the horizon and some time off."""
    rng = random.Random(seed)
    peers = []
    for index in range(count):
        availability = Availability(peer_windows(rng), rng.choice(ZONES))
        time_off: tuple[Interval, ...] = ()
        if rng.random() < 0.2:
            begin = START + timedelta(days=rng.randint(0, 20))
            time_off = (Interval(begin, begin + timedelta(days=rng.randint(1, 3))),)
        bookings = _book_some(rng, availability, time_off, rng.randint(5, 20), horizon)
        peers.append(Peer(f"peer-{index}", availability, bookings, time_off))
    return peers


def _book_some(
    rng: random.Random,
    availability: Availability,
    time_off: tuple[Interval, ...],
    wanted: int,
    horizon: timedelta,
) -> tuple[Interval, ...]:
    query = SlotQuery(availability, None, timedelta(minutes=60), START, START + horizon, time_off=time_off)
    options = list(iter_slots(query))
    rng.shuffle(options)
    booked: list[Interval] = []
    for slot in options:
        if len(booked) == wanted:
            break
        if not conflicts(slot, booked, POLICY.buffer):
            booked.append(slot)
    return tuple(sorted(booked, key=lambda s: s.start))


def make_queries(peers: list[Peer], calls: int, horizon: timedelta, seed: int = 2) -> list[SlotQuery]:
    rng = random.Random(seed)
    queries = []
    for _ in range(calls):
        peer = rng.choice(peers)
        earliest = START + timedelta(hours=rng.randint(0, 72), minutes=rng.choice((0, 7, 20)))
        queries.append(
            SlotQuery(
                peer=peer.availability,
                participant=participant(rng),
                duration=rng.choice(POLICY.session_types).duration,
                earliest=earliest,
                horizon_end=earliest + horizon,
                buffer=POLICY.buffer,
                step=POLICY.step,
                daily_cap=POLICY.max_sessions_per_day,
                bookings=peer.bookings,
                time_off=peer.time_off,
            )
        )
    return queries


def naive_slots(query: SlotQuery, limit: int) -> list[Interval]:
    """Baseline: test every grid start with the booking-time check."""
    found: list[Interval] = []
    start = align_up(query.earliest, query.step, zone(query.peer.tz))
    while start + query.duration <= query.horizon_end and len(found) < limit:
        slot = Interval(start, start + query.duration)
        if slot_problem(query, slot) is None:
            found.append(slot)
        start += query.step
    return found


def timed(method: Callable[[SlotQuery, int], list[Interval]], queries: list[SlotQuery]) -> list[float]:
    """Per-call latencies in milliseconds."""
    latencies = []
    for query in queries:
        began = time.perf_counter()
        method(query, 10)
        latencies.append((time.perf_counter() - began) * 1000)
    return latencies


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument("--peers", type=int, default=300)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--baseline-calls", type=int, default=200)
    args = parser.parse_args()
    peers_n, calls, base_calls = (30, 100, 20) if args.quick else (args.peers, args.calls, args.baseline_calls)
    horizon = timedelta(days=28)
    peers = make_peers(peers_n, horizon)
    queries = make_queries(peers, calls, horizon)
    for query in queries[:base_calls]:
        if find_slots(query, 10) != naive_slots(query, 10):
            raise SystemExit("find_slots and the naive scan disagree")
    rows = [("find_slots", timed(find_slots, queries)), ("naive scan", timed(naive_slots, queries[:base_calls]))]
    bookings = sum(len(p.bookings) for p in peers)
    print(f"FindSlots, {peers_n} peers, {bookings} existing bookings, 4-week horizon, limit 10")
    print(f"{'method':<12} {'calls':>6} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8}")
    for name, lat in rows:
        print(
            f"{name:<12} {len(lat):>6} {percentile(lat, 50):>8.2f} {percentile(lat, 99):>8.2f} "
            f"{statistics.fmean(lat):>8.2f}"
        )
    print(f"results identical on {base_calls} calls")


if __name__ == "__main__":
    main()
