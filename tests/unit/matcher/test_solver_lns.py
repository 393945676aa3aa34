"""Windows (``lns.py``): always feasible, never worse than the start, exact when a window holds every peer
(of at most three here: participants from outside a window bring their best four peers in it).

Feasibility is checked pair by pair by the brute-force module's ``is_feasible``
(capacity, usable pairs, intake and category caps; an assignment gives each
participant at most one peer by construction), against its enumeration.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from alongside.matcher.domain.solver import BatchProblem, SideConstraints, lns, solve, tighten
from alongside.matcher.domain.solver.arcs import arcs_from_mask, limits_of
from alongside.matcher.domain.solver.bounds import DenseGap
from alongside.matcher.domain.solver.gains import prepare
from alongside.matcher.domain.solver.greedy import greedy
from alongside.matcher.domain.solver.lagrange import lagrangian
from bench.realistic import realistic_instance
from tests.unit.matcher.test_solver_bruteforce import brute_force, is_feasible, objective, random_problem
from tests.unit.matcher.test_solver_local import random_start

FOREVER = float("inf")


@pytest.mark.parametrize("seed", range(60))
def test_windows_stay_feasible_and_never_lose(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    if seed % 2:  # windows of one or two of the (at most three) peers: the others offer only their room
        monkeypatch.setattr(lns, "WINDOW_PEERS", 1)
        monkeypatch.setattr(lns, "MIN_WINDOW", 1)
        monkeypatch.setattr(lns, "MAX_WINDOW", 2)
    rng = np.random.default_rng(seed + 11000)
    problem = random_problem(rng, pair_load=seed % 2 == 0, side=seed % 3 == 0)
    gains = prepare(problem)
    arcs = arcs_from_mask(gains, gains.usable)
    start = random_start(problem, rng)
    out = lns.search(arcs, limits_of(problem), start, FOREVER, seed, windows=4)
    assert is_feasible(problem, out)
    assert objective(problem, out) >= objective(problem, start) - 1e-9
    assert objective(problem, out) <= brute_force(problem) + 1e-9


@pytest.mark.parametrize("seed", range(15))
def test_a_window_of_every_peer_is_an_exact_solve(seed: int) -> None:
    # The window grows from one peer to all of them (at most 3 here): every participant is in its sub-problem.
    rng = np.random.default_rng(seed + 12000)
    problem = random_problem(rng, pair_load=True, side=seed % 2 == 0)
    gains = prepare(problem)
    arcs = arcs_from_mask(gains, gains.usable)
    out = lns.search(arcs, limits_of(problem), np.full(problem.n, -1, dtype=np.int64), FOREVER, seed, windows=1)
    assert is_feasible(problem, out)
    assert objective(problem, out) == pytest.approx(brute_force(problem))


@pytest.mark.parametrize("seed", range(4))
def test_peers_outside_the_window_offer_only_their_room(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # Peer 0 holds participants 0 and 1, who gain more at peer 1; peer 1 holds participant 3 and has room for
    # one more. Participant 2 fits peer 0 only. A window of peer 0 alone may send one of 0 and 1 to peer 1, not
    # both (sending both would gain more, and overfill peer 1).
    monkeypatch.setattr(lns, "WINDOW_PEERS", 1)
    monkeypatch.setattr(lns, "MIN_WINDOW", 1)
    monkeypatch.setattr(lns, "MAX_WINDOW", 1)
    problem = BatchProblem(
        profit=np.array([[1.0, 5.0], [1.0, 5.0], [10.0, 0.0], [0.0, 5.0]]),
        feasible=np.array([[True, True], [True, True], [True, False], [False, True]]),
        load=np.ones(4, dtype=np.int64),
        capacity=np.array([2, 2]),
        unmatched_penalty=np.zeros(4),
    )
    gains = prepare(problem)
    arcs = arcs_from_mask(gains, gains.usable)
    out = lns.search(arcs, limits_of(problem), np.array([0, 0, -1, 1]), FOREVER, seed, windows=2)
    assert is_feasible(problem, out)
    assert objective(problem, out) == pytest.approx(21.0)


@pytest.mark.parametrize("seed", range(10))
def test_small_windows_on_a_larger_roster_stay_feasible(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # Windows of a few peers out of 12: participants move between a window and the room outside it.
    monkeypatch.setattr(lns, "WINDOW_PEERS", 3)
    monkeypatch.setattr(lns, "MIN_WINDOW", 2)
    monkeypatch.setattr(lns, "MAX_WINDOW", 4)
    rng = np.random.default_rng(seed + 13000)
    n, m = 40, 12
    side = seed % 2 == 0
    problem = BatchProblem(
        profit=np.round(rng.random((n, m)) * 10, 2),
        feasible=rng.random((n, m)) < 0.5,
        load=rng.integers(1, 4, (n, m)).astype(np.int64),
        capacity=rng.integers(2, 14 if seed < 6 else 8, m).astype(np.int64),  # room left, or tight
        unmatched_penalty=np.round(rng.random(n) * 4, 2),
        side=_side(rng, n, m) if side else SideConstraints(),
    )
    gains = prepare(problem)
    arcs = arcs_from_mask(gains, gains.usable)
    limits = limits_of(problem)
    start = greedy(arcs, arcs.gain, limits) if seed % 2 else random_start(problem, rng)
    assert is_feasible(problem, start)
    told: list[int] = []
    out = lns.search(arcs, limits, start, FOREVER, seed, told.append, windows=25)
    assert is_feasible(problem, out)
    assert objective(problem, out) >= objective(problem, start) - 1e-9
    assert told == sorted(told)  # each report a better gain


def _side(rng: np.random.Generator, n: int, m: int) -> SideConstraints:
    return SideConstraints(
        intake_cap=rng.integers(1, 5, m), category=rng.random(n) < 0.4, category_cap=rng.integers(0, 3, m)
    )


def test_the_deadline_is_kept() -> None:
    problem = realistic_instance(60, 150, seed=3)
    gains = prepare(problem)
    arcs = arcs_from_mask(gains, gains.usable)
    start = np.full(problem.n, -1, dtype=np.int64)
    began = time.perf_counter()
    out = lns.search(arcs, limits_of(problem), start, began + 0.6, 1)
    assert time.perf_counter() - began < 2.0  # 0.6 s, and a window or a local search round past it under load
    assert is_feasible(problem, out)
    assert (lns.search(arcs, limits_of(problem), start, 0.0, 1) == start).all()  # past the deadline: untouched


def test_improve_kept_never_returns_a_worse_incumbent_and_refixes() -> None:
    problem = realistic_instance(80, 200, seed=2)
    gains, limits = prepare(problem), limits_of(problem)
    lag = lagrangian(gains, DenseGap.of(gains), limits, gains.usable, FOREVER, 10)
    kept = tighten.by_knapsack(lag, gains, limits, time.perf_counter() + 0.3, lambda *_: None)
    seen: list[float] = []
    better = lns.improve_kept(kept, gains, limits, time.perf_counter() + 1.0, 1, lambda c, o, b: seen.append(o))
    assert is_feasible(problem, better.assignment)
    assert better.gain >= kept.gain - 1e-9
    assert better.bound == pytest.approx(max(kept.bound, better.gain))
    assert better.arcs.size <= kept.arcs.size
    assert all(o / gains.scale <= better.gain + 1e-6 for o in seen)


def windows_on_small_rosters(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Lower the sizes below which the knapsack phase and the windows do not run, so a small roster
    takes that path; the list returned grows by one for each window search."""
    monkeypatch.setattr(tighten, "MAX_CP_ARCS", 20)
    monkeypatch.setattr("alongside.matcher.domain.solver.gap.KNAPSACK_PAIRS", 100)
    monkeypatch.setattr("alongside.matcher.domain.solver.gap.KNAPSACK_ABOVE", -1.0)
    called: list[int] = []
    original = lns.search

    def spy(*args: object, **kwargs: object) -> np.ndarray:
        called.append(1)
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(lns, "search", spy)
    return called


def test_solve_takes_the_windows_when_the_kept_arcs_are_too_many(monkeypatch: pytest.MonkeyPatch) -> None:
    called = windows_on_small_rosters(monkeypatch)
    problem = realistic_instance(60, 150, seed=4)
    result = solve(problem, time_limit_s=2.0, seed=1)
    assert called
    assert is_feasible(problem, result.assignment)
    assert result.engine == "cpsat+pruned"
    assert result.bound >= result.objective
    assert result.seconds < 2.6


def test_the_windows_leave_the_fairness_pass_its_time(monkeypatch: pytest.MonkeyPatch) -> None:
    called = windows_on_small_rosters(monkeypatch)
    base = realistic_instance(40, 100, seed=5)
    problem = BatchProblem(
        base.profit, base.feasible, base.load, base.capacity, base.unmatched_penalty, SideConstraints(fairness="minmax")
    )
    result = solve(problem, time_limit_s=2.0, seed=1)
    assert is_feasible(problem, result.assignment)
    assert called
    assert result.engine == "cpsat+pruned+minmax"
    assert result.seconds < 2.6
