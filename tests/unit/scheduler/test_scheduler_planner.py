"""PlanWeek (CP-SAT) and greedy earliest-fit on tiny instances, one rule each."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from alongside.kit.errors import InvalidArgument
from alongside.scheduler.domain.booking import EXPLANATIONS, Blocker
from alongside.scheduler.domain.cpsat_model import build_model, max_spaced
from alongside.scheduler.domain.greedy import greedy_choice, greedy_plan
from alongside.scheduler.domain.model import Availability, Interval, Policy, Urgency, WeeklyWindow
from alongside.scheduler.domain.plan_audit import audit
from alongside.scheduler.domain.plan_model import PlanPeer, PlanRequest, PlanResult, PlanWeights
from alongside.scheduler.domain.planner import plan_week, read_choice, solve
from alongside.scheduler.domain.planning import CAPACITY_REASON, build_instance, objective_of

WEEK = datetime(2027, 3, 1, tzinfo=UTC)  # a Monday
HOUR = timedelta(hours=1)
MON, TUE, WED = 0, 1, 2
ALL_DAY = Availability(tuple(WeeklyWindow(d, 0, 24 * 60) for d in range(7)), "UTC")


def peer(*windows: WeeklyWindow, bookings: tuple[Interval, ...] = (), peer_id: str = "p") -> PlanPeer:
    return PlanPeer(peer_id, Availability(windows, "UTC"), bookings)


def request(
    rid: str, urgency: Urgency = Urgency.ROUTINE, participant: Availability = ALL_DAY, peer_id: str = "p"
) -> PlanRequest:
    return PlanRequest(rid, peer_id, urgency, HOUR, WEEK, participant)


def policy(buffer: int = 0, cap: int = 4) -> Policy:
    return Policy(buffer=timedelta(minutes=buffer), max_sessions_per_day=cap, step=timedelta(minutes=15))


def both(requests: list[PlanRequest], peers: list[PlanPeer], pol: Policy) -> tuple[PlanResult, PlanResult]:
    return plan_week(requests, peers, WEEK, pol, 5.0), greedy_plan(requests, peers, WEEK, pol)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return WEEK + timedelta(days=day, hours=hour, minutes=minute)


def test_no_overlap_includes_the_buffer() -> None:
    peers = [peer(WeeklyWindow(MON, 9 * 60, 11 * 60))]
    requests = [request("a"), request("b")]
    for result in both(requests, peers, policy(buffer=15)):
        assert len(result.placements) == 1
    for result in both(requests, peers, policy(buffer=0)):
        assert sorted(p.slot.start for p in result.placements) == [at(MON, 9), at(MON, 10)]


def test_daily_cap_moves_the_second_session_to_another_day() -> None:
    peers = [peer(WeeklyWindow(MON, 9 * 60, 17 * 60), WeeklyWindow(TUE, 9 * 60, 17 * 60))]
    for result in both([request("a"), request("b")], peers, policy(cap=1)):
        assert sorted(p.slot.start.date() for p in result.placements) == [at(MON, 0).date(), at(TUE, 0).date()]


def test_daily_cap_counts_existing_bookings() -> None:
    existing = (Interval(at(MON, 15), at(MON, 16)),)
    peers = [peer(WeeklyWindow(MON, 9 * 60, 17 * 60), WeeklyWindow(TUE, 9 * 60, 17 * 60), bookings=existing)]
    for result in both([request("a")], peers, policy(cap=1)):
        assert [p.slot.start for p in result.placements] == [at(TUE, 9)]


def test_urgent_gets_the_earliest_slot() -> None:
    peers = [peer(WeeklyWindow(MON, 9 * 60, 10 * 60), WeeklyWindow(WED, 9 * 60, 10 * 60))]
    result = plan_week([request("a-routine"), request("z-urgent", Urgency.URGENT)], peers, WEEK, policy(), 5.0)
    assert result.slot_of("z-urgent") == Interval(at(MON, 9), at(MON, 10))
    assert result.slot_of("a-routine") == Interval(at(WED, 9), at(WED, 10))


def test_urgent_is_placed_before_routine_when_only_one_fits() -> None:
    peers = [peer(WeeklyWindow(MON, 9 * 60, 10 * 60))]
    result = plan_week([request("a-routine"), request("z-urgent", Urgency.URGENT)], peers, WEEK, policy(), 5.0)
    assert [p.request_id for p in result.placements] == ["z-urgent"]


def test_load_is_spread_across_days() -> None:
    peers = [peer(*(WeeklyWindow(d, 9 * 60, 17 * 60) for d in (MON, TUE, WED)))]
    requests = [request(r) for r in "abc"]
    planned, greedy = both(requests, peers, policy(cap=3))
    assert len({p.slot.start.date() for p in planned.placements}) == 3
    assert len({p.slot.start.date() for p in greedy.placements}) == 1  # earliest-fit piles up


def test_everything_feasible_is_placed() -> None:
    peers = [peer(*(WeeklyWindow(d, 9 * 60, 17 * 60) for d in range(5)), peer_id=f"p{i}") for i in range(3)]
    requests = [request(f"r{i}", peer_id=f"p{i % 3}") for i in range(12)]
    result = plan_week(requests, peers, WEEK, policy(buffer=15, cap=2), 5.0)
    assert len(result.placements) == 12 and result.unplaced == {}
    assert result.status == "OPTIMAL" and result.gap == 0.0


def test_cp_sat_beats_greedy_when_earliest_fit_blocks() -> None:
    # "a" can meet any time; "b" only at 09:00. Earliest-fit gives 09:00 to "a".
    peers = [peer(WeeklyWindow(MON, 9 * 60, 11 * 60))]
    only_nine = Availability((WeeklyWindow(MON, 9 * 60, 10 * 60),), "UTC")
    planned, greedy = both([request("a"), request("b", participant=only_nine)], peers, policy())
    assert len(greedy.placements) == 1 and len(planned.placements) == 2
    assert planned.slot_of("b") == Interval(at(MON, 9), at(MON, 10))


def test_unplaced_requests_name_the_constraint() -> None:
    peers = [peer(WeeklyWindow(MON, 9 * 60, 10 * 60))]
    never = Availability((WeeklyWindow(TUE, 9 * 60, 10 * 60),), "UTC")
    result = plan_week([request("a"), request("b"), request("c", participant=never)], peers, WEEK, policy(), 5.0)
    assert len(result.placements) == 1
    assert sorted(result.unplaced.values()) == sorted([CAPACITY_REASON, EXPLANATIONS[Blocker.NO_SHARED_WINDOW]])


def test_request_for_unknown_peer_names_the_field() -> None:
    with pytest.raises(InvalidArgument) as err:
        plan_week([request("a", peer_id="ghost")], [peer()], WEEK, policy(), 1.0)
    assert err.value.field == "requests.peer_id"


def test_duplicate_request_ids_are_rejected() -> None:
    with pytest.raises(InvalidArgument) as err:
        greedy_plan([request("a"), request("a")], [peer()], WEEK, policy())
    assert err.value.field == "requests.request_id"


def test_max_spaced_counts_points_at_least_gap_apart() -> None:
    assert max_spaced([0, 15, 30, 60, 75, 120], 60) == 3
    assert max_spaced([], 60) == 0


def random_instance(seed: int) -> tuple[list[PlanRequest], list[PlanPeer]]:
    rng = random.Random(seed)
    peers = []
    for i in range(3):
        windows = [
            WeeklyWindow(d, rng.choice((8, 9, 10)) * 60, rng.choice((12, 13)) * 60) for d in rng.sample(range(5), 2)
        ]
        peers.append(peer(*windows, peer_id=f"p{i}"))
    requests = []
    for i in range(10):
        day = rng.randrange(5)
        start = rng.choice((8, 9, 10, 11)) * 60
        participant = Availability(
            (WeeklyWindow(day, start, start + 120), WeeklyWindow((day + 2) % 5, 9 * 60, 12 * 60)), "UTC"
        )
        urgency = Urgency.URGENT if rng.random() < 0.3 else Urgency.ROUTINE
        requests.append(
            PlanRequest(
                f"r{i}", f"p{rng.randrange(3)}", urgency, timedelta(minutes=rng.choice((45, 60))), WEEK, participant
            )
        )
    return requests, peers


@pytest.mark.parametrize("seed", range(6))
def test_random_plans_obey_every_rule_and_never_lose_to_greedy(seed: int) -> None:
    requests, peers = random_instance(seed)
    pol = policy(buffer=15, cap=2)
    planned, greedy = both(requests, peers, pol)
    instance = build_instance(requests, peers, WEEK, pol, PlanWeights())
    assert audit(instance, planned.placements) == [] and audit(instance, greedy.placements) == []
    assert len(planned.placements) >= len(greedy.placements)
    assert planned.objective is not None and greedy.objective is not None
    assert planned.objective >= greedy.objective
    assert planned.bound is not None and planned.bound >= planned.objective


def test_solver_objective_equals_the_shared_scoring() -> None:
    requests, peers = random_instance(3)
    instance = build_instance(requests, peers, WEEK, policy(buffer=15, cap=2), PlanWeights())
    items = [p for p in instance.prepared if p.options]
    model, choices = build_model(instance, items, greedy_choice(instance))
    solver, status = solve(model, 5.0)
    assert status == "OPTIMAL"
    assert solver.objective_value == objective_of(instance, read_choice(choices, solver), items)
