"""The knapsack Lagrangian's pure pieces against brute force on small instances.

The DP against every subset; the bound against the brute-force optimum of
the whole problem for random multipliers; reduced-cost fixing never drops an
arc of an optimal solution; the realistic generator is the same per seed.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from alongside.matcher.domain.solver import BatchProblem, gap, lns, solve, tighten
from alongside.matcher.domain.solver.arcs import Arcs, arcs_from_mask, limits_of
from alongside.matcher.domain.solver.bounds import DenseGap
from alongside.matcher.domain.solver.fill import fill
from alongside.matcher.domain.solver.gains import prepare
from alongside.matcher.domain.solver.greedy import greedy_in_order
from alongside.matcher.domain.solver.kbound import evaluate, fixable, proven
from alongside.matcher.domain.solver.knapsack import pack, reduce_items, solve_knapsacks
from alongside.matcher.domain.solver.knapsack_lagrange import gain_of, knapsack_lagrangian
from alongside.matcher.domain.solver.lagrange import lagrangian
from bench.realistic import realistic_instance
from tests.unit.matcher.test_solver_bruteforce import is_feasible, objective, random_problem


def best_subset(profit: list[float], weight: list[int], capacity: int) -> float:
    best = 0.0
    for size in range(len(profit) + 1):
        for chosen in itertools.combinations(range(len(profit)), size):
            if sum(weight[k] for k in chosen) <= capacity:
                best = max(best, sum(profit[k] for k in chosen))
    return best


@pytest.mark.parametrize("seed", range(25))
def test_knapsack_dp_is_exact(seed: int) -> None:
    rng = np.random.default_rng(seed)
    m, items = 4, 9
    peer = rng.integers(0, m, items).astype(np.int64)
    weight = rng.integers(1, 5, items).astype(np.int64)
    profit = np.round(rng.normal(3.0, 4.0, items), 2)
    capacity = rng.integers(0, 9, m).astype(np.int64)
    kept = reduce_items(peer, weight, profit, capacity)
    ks = solve_knapsacks(pack(peer, weight, profit, kept, m), capacity)
    for j in range(m):
        mine = np.flatnonzero(peer == j)
        want = best_subset(profit[mine].tolist(), weight[mine].tolist(), int(capacity[j]))
        assert ks.value[j] == pytest.approx(want)
        for c in range(int(capacity[j]) + 1):  # every row of the table, as fixing reads it
            assert ks.table[j, c] == pytest.approx(best_subset(profit[mine].tolist(), weight[mine].tolist(), c))
        packed = ks.taken[peer[ks.taken] == j]
        assert profit[packed].sum() == pytest.approx(want)
        assert weight[packed].sum() <= capacity[j]
    assert np.unique(ks.taken).size == ks.taken.size


def optima(problem: BatchProblem) -> tuple[list[tuple[int, ...]], float]:
    """Every optimal assignment, and the optimum, by enumeration."""
    n, m = problem.profit.shape
    choices = [[-1] + [j for j in range(m) if problem.feasible[i, j]] for i in range(n)]
    scored = [(objective(problem, a), a) for a in itertools.product(*choices) if is_feasible(problem, a)]
    top = max(value for value, _ in scored)
    return [a for value, a in scored if value >= top - 1e-9], top


def small_gap(seed: int, n: int = 7, m: int = 3) -> BatchProblem:
    rng = np.random.default_rng(seed)
    return BatchProblem(
        profit=rng.integers(1, 30, (n, m)).astype(np.float64),
        feasible=rng.random((n, m)) < 0.8,
        load=rng.integers(1, 4, n).astype(np.int64),
        capacity=rng.integers(1, 6, m).astype(np.int64),
        unmatched_penalty=rng.integers(0, 5, n).astype(np.float64),
    )


def full_arcs(problem: BatchProblem) -> tuple[Arcs, float]:
    gains = prepare(problem)
    assert gains.scale == 1.0
    return arcs_from_mask(gains, gains.usable), float(problem.unmatched_penalty.sum())


@pytest.mark.parametrize("seed", range(30))
def test_lagrangian_bound_is_at_least_the_optimum_for_any_multipliers(seed: int) -> None:
    problem = small_gap(seed)
    arcs, penalty = full_arcs(problem)
    _, optimum = optima(problem)
    rng = np.random.default_rng(seed + 1000)
    for u in (np.zeros(problem.n), rng.random(problem.n) * 30, rng.integers(0, 40, problem.n).astype(float)):
        value = evaluate(arcs, u, problem.capacity).value
        assert proven(value) - penalty >= optimum - 1e-9


@pytest.mark.parametrize("seed", range(30))
def test_the_search_bound_holds_and_its_incumbent_is_feasible(seed: int) -> None:
    problem = small_gap(seed)
    arcs, penalty = full_arcs(problem)
    _, optimum = optima(problem)
    limits = limits_of(problem)
    start = np.full(problem.n, -1, dtype=np.int64)
    search = knapsack_lagrangian(arcs, limits, np.zeros(problem.n), start, deadline=float("inf"))
    assert search.bound - penalty >= optimum - 1e-9
    assert is_feasible(problem, search.assignment)
    assert search.gain == gain_of(arcs, search.assignment)
    if search.closed:
        assert search.gain - penalty == pytest.approx(optimum)


@pytest.mark.parametrize("seed", range(40))
def test_reduced_cost_fixing_never_drops_an_optimal_pair(seed: int) -> None:
    problem = small_gap(seed)
    arcs, penalty = full_arcs(problem)
    every, optimum = optima(problem)
    limits = limits_of(problem)
    rng = np.random.default_rng(seed + 2000)
    search = knapsack_lagrangian(arcs, limits, rng.random(problem.n) * 20, np.full(problem.n, -1), float("inf"))
    # With the optimum itself as incumbent (the strongest fixing), and with the search's own.
    for incumbent in (round(optimum + penalty), search.gain):
        dropped = fixable(search.best, arcs, problem.capacity, incumbent)
        for best in every:
            used = np.asarray(best)[arcs.rows] == arcs.cols
            assert not (dropped & used).any()


@pytest.mark.parametrize("windows_above", [10**9, 0])
def test_the_knapsack_engine_proves_what_brute_force_finds(monkeypatch: pytest.MonkeyPatch, windows_above: int) -> None:
    # Forced on tiny problems (it normally leaves them to CP-SAT alone), with and without windows (lns.py).
    monkeypatch.setattr(gap, "KNAPSACK_PAIRS", 0)
    monkeypatch.setattr(gap, "KNAPSACK_ABOVE", -1.0)
    monkeypatch.setattr(lns, "WINDOWS_ABOVE", windows_above)
    for seed in range(8):
        problem = small_gap(seed, n=8, m=3)
        _, optimum = optima(problem)
        result = solve(problem, time_limit_s=2.0)
        assert is_feasible(problem, result.assignment)
        assert result.objective == pytest.approx(optimum)
        assert result.bound >= optimum - 1e-9


def test_lp_and_knapsack_engines_agree_on_small_problems() -> None:
    for seed in range(10):
        problem = small_gap(seed + 50, n=8, m=3)
        lp = solve(problem, time_limit_s=5.0, relaxation="lp")
        knapsack = solve(problem, time_limit_s=5.0, relaxation="knapsack")
        assert lp.objective == pytest.approx(knapsack.objective)


def test_the_realistic_generator_is_deterministic_per_seed() -> None:
    a, b, c = (realistic_instance(40, 60, seed=s) for s in (3, 3, 4))
    for field in ("profit", "feasible", "load", "capacity", "unmatched_penalty"):
        assert np.array_equal(getattr(a, field), getattr(b, field))
    assert not np.array_equal(a.profit, c.profit)
    assert a.load.min() >= 1 and a.load.max() <= 3
    assert (a.capacity >= 0).all()


@pytest.mark.parametrize("seed", range(30))
def test_fill_respects_every_limit_and_leaves_no_room_unused(seed: int) -> None:
    rng = np.random.default_rng(seed + 3000)
    problem = random_problem(rng, pair_load=seed % 2 == 0, side=True)
    gains = prepare(problem)
    arcs = arcs_from_mask(gains, gains.usable)
    limits = limits_of(problem)
    start = np.full(problem.n, -1, dtype=np.int64)
    if arcs.size:
        start = greedy_in_order(arcs, [arcs.rows[:1] * 0], limits)  # one arc in, the rest left to fill
    out = fill(arcs, arcs.gain, limits, start)
    assert is_feasible(problem, out)
    assert (out[start >= 0] == start[start >= 0]).all()
    for k in range(arcs.size):  # maximal: nobody left out fits anywhere still
        i, j = int(arcs.rows[k]), int(arcs.cols[k])
        if out[i] < 0:
            trial = out.copy()
            trial[i] = j
            assert not is_feasible(problem, trial)


def test_on_a_clustered_roster_the_knapsack_bound_is_tighter_than_the_lp_bound() -> None:
    problem = realistic_instance(60, 100, seed=5)
    gains, limits = prepare(problem), limits_of(problem)
    lag = lagrangian(gains, DenseGap.of(gains), limits, gains.usable, float("inf"), 40)
    reports: list[tuple[int, int]] = []
    kept = tighten.by_knapsack(lag, gains, limits, float("inf"), lambda *report: reports.append(report))
    assert kept.bound < lag.full.value  # strictly tighter here, where the LP leaves a gap
    assert kept.bound >= kept.gain
    assert is_feasible(problem, kept.assignment)
    assert kept.arcs.size < int(gains.usable.sum())  # its fixing dropped pairs
    assert reports and all(bound >= gain for gain, bound in reports)
