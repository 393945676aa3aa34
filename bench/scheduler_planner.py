"""PlanWeek (CP-SAT) against greedy earliest-fit, measured in the same run.

Run: ``python bench/scheduler_planner.py`` (300 peers, 1,000 first sessions)
or ``--quick``.

Instance: the peers of ``scheduler_slots`` (US and European zones, 3-5 days
of windows, a few existing bookings this week), first sessions of 60 minutes
spread over peers with a skew (popular peers get several), a quarter of them
URGENT, participants with narrow windows in their own zones, some not
available before a later "earliest". The week contains the US
spring-forward. Both methods get the same instance and are scored by the
same objective; both plans are audited against the hard rules.
"""

from __future__ import annotations

import argparse
import random
import statistics
from collections import Counter
from datetime import UTC, date, datetime, timedelta

from alongside.scheduler.domain.greedy import greedy_plan
from alongside.scheduler.domain.intervals import conflicts
from alongside.scheduler.domain.model import Availability, Interval, Policy, Urgency
from alongside.scheduler.domain.plan_audit import audit
from alongside.scheduler.domain.plan_model import PlanPeer, PlanRequest, PlanResult, PlanWeights
from alongside.scheduler.domain.planner import plan_week
from alongside.scheduler.domain.planning import build_instance
from alongside.scheduler.domain.slots import SlotQuery, iter_slots
from bench.scheduler_slots import participant, peer_windows

WEEK_START = datetime(2027, 3, 8, tzinfo=UTC)
WEEK = timedelta(days=7)
POLICY = Policy(max_sessions_per_day=3)
ZONES = ("America/New_York", "America/Chicago", "America/Los_Angeles", "Europe/London", "Europe/Berlin")


def make_peers(count: int, rng: random.Random) -> list[PlanPeer]:
    peers = []
    for index in range(count):
        availability = Availability(peer_windows(rng), rng.choice(ZONES))
        peers.append(PlanPeer(f"peer-{index}", availability, _existing(availability, rng)))
    return peers


def _existing(availability: Availability, rng: random.Random) -> tuple[Interval, ...]:
    """0-6 follow-ups already booked this week, at most two a day."""
    query = SlotQuery(availability, None, timedelta(minutes=45), WEEK_START, WEEK_START + WEEK)
    options = list(iter_slots(query))
    rng.shuffle(options)
    booked: list[Interval] = []
    per_day: Counter[date] = Counter()
    for slot in options[: rng.randint(0, 6)]:
        if per_day[slot.start.date()] < 2 and not conflicts(slot, booked, POLICY.buffer):
            booked.append(slot)
            per_day[slot.start.date()] += 1
    return tuple(booked)


def make_requests(count: int, peers: list[PlanPeer], rng: random.Random) -> list[PlanRequest]:
    """Skewed demand: peer weights fall off like 1/rank**0.6."""
    weights = [1 / (rank + 1) ** 0.6 for rank in range(len(peers))]
    requests = []
    for index in range(count):
        peer = rng.choices(peers, weights)[0]
        urgent = rng.random() < 0.25
        delay = timedelta(0) if urgent or rng.random() < 0.6 else timedelta(hours=rng.randint(12, 72))
        requests.append(
            PlanRequest(
                request_id=f"req-{index}",
                peer_id=peer.peer_id,
                urgency=Urgency.URGENT if urgent else Urgency.ROUTINE,
                duration=timedelta(minutes=60),
                earliest=WEEK_START + delay,
                participant=_matched_participant(peer, rng),
            )
        )
    return requests


def _matched_participant(peer: PlanPeer, rng: random.Random) -> Availability:
    """A participant whose windows overlap the peer's, as the matcher requires.

    Mostly in the peer's zone; a sixth elsewhere. Overlap is checked on the
    weekly pattern, so this week's bookings may still leave no room.
    """
    while True:
        candidate: Availability = participant(rng, peer.availability.tz if rng.random() < 0.85 else None)
        probe = SlotQuery(peer.availability, candidate, timedelta(minutes=60), WEEK_START, WEEK_START + WEEK)
        if next(iter_slots(probe), None) is not None:
            return candidate


def urgent_wait_hours(result: PlanResult, requests: list[PlanRequest]) -> tuple[int, float | None]:
    """(URGENT placed, their mean hours from max(week start, earliest) to start)."""
    waits = []
    for request in requests:
        slot = result.slot_of(request.request_id)
        if request.urgency is Urgency.URGENT and slot is not None:
            waits.append((slot.start - max(WEEK_START, request.earliest)).total_seconds() / 3600)
    return len(waits), statistics.fmean(waits) if waits else None


def fmt(value: float | None, pattern: str) -> str:
    return "-" if value is None else format(value, pattern)


def main() -> None:
    parser = argparse.ArgumentParser(description="PlanWeek CP-SAT vs greedy earliest-fit")
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument("--peers", type=int, default=300)
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--time-limit", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    peers_n, sessions, limit = (30, 100, 3.0) if args.quick else (args.peers, args.sessions, args.time_limit)
    rng = random.Random(args.seed)
    peers = make_peers(peers_n, rng)
    requests = make_requests(sessions, peers, rng)
    urgent = sum(r.urgency is Urgency.URGENT for r in requests)
    instance = build_instance(requests, peers, WEEK_START, POLICY, PlanWeights())
    feasible = sum(bool(p.options) for p in instance.prepared)
    print(f"PlanWeek: {peers_n} peers, {sessions} first sessions ({urgent} URGENT, {feasible} with a feasible start)")
    print(f"daily cap {POLICY.max_sessions_per_day}, buffer {POLICY.buffer}, CP-SAT limit {limit:.0f}s, 2 workers")
    header = (
        f"{'method':<8} {'placed':>6} {'urgent':>6} {'urg wait h':>10} {'objective':>14} {'bound':>14} "
        f"{'gap':>8} {'time s':>7}  status"
    )
    print(header)
    for name, method in (("greedy", greedy_plan), ("cp-sat", plan_week)):
        result = method(requests, peers, WEEK_START, POLICY, limit)
        problems = audit(instance, result.placements)
        if problems:
            raise SystemExit(f"{name} broke a hard rule: {problems[:3]}")
        placed_urgent, wait = urgent_wait_hours(result, requests)
        print(
            f"{name:<8} {len(result.placements):>6} {placed_urgent:>6} {fmt(wait, '.2f'):>10} "
            f"{fmt(result.objective, '.0f'):>14} {fmt(result.bound, '.0f'):>14} {fmt(result.gap, '.2e'):>8} "
            f"{result.seconds:>7.2f}  {result.status}"
        )
        if result.bound is not None and result.objective is not None:
            proven = result.bound - result.objective < instance.place_weight
            print(f"{'':<8} placed count proven maximal: {'yes' if proven else 'no'}")


if __name__ == "__main__":
    main()
