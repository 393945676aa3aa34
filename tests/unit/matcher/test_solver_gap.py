"""The GAP engine (pair-dependent loads): CP-SAT, the Lagrangian bound, fixing and greedy."""

from __future__ import annotations

import numpy as np
import pytest

from alongside.matcher.domain.solver import BatchProblem, SideConstraints, gap, solve, tighten
from alongside.matcher.domain.solver.arcs import arcs_from_mask, limits_of
from alongside.matcher.domain.solver.bounds import DenseGap, Multipliers, full_bound
from alongside.matcher.domain.solver.gains import prepare
from alongside.matcher.domain.solver.greedy import greedy
from alongside.matcher.domain.solver.lagrange import lagrangian
from alongside.matcher.domain.solver.prune import start_mask
from tests.unit.matcher.test_solver_bruteforce import brute_force, is_feasible, random_problem


def gap_problem(
    profit: list[list[float]],
    load: list[list[int]] | list[int],
    capacity: list[int],
    side: SideConstraints | None = None,
) -> BatchProblem:
    p = np.array(profit, dtype=np.float64)
    return BatchProblem(
        profit=p,
        feasible=np.ones(p.shape, dtype=bool),
        load=np.array(load, dtype=np.int64),
        capacity=np.array(capacity, dtype=np.int64),
        unmatched_penalty=np.zeros(p.shape[0]),
        side=SideConstraints() if side is None else side,
    )


def test_acuity_weighted_capacity_is_a_knapsack() -> None:
    # Room 4; loads 3, 2, 2 for profits 5, 3, 3: the two light ones (6) beat the heavy one (5).
    result = solve(gap_problem([[5], [3], [3]], [3, 2, 2], [4]))
    assert result.assignment.tolist() == [-1, 0, 0]
    assert result.objective == 6
    assert (result.engine, result.status, result.gap) == ("cpsat", "OPTIMAL", 0.0)


def test_load_that_depends_on_the_peer() -> None:
    # 0->A weighs 3, 0->B 1; 1->A 1, 1->B 3; rooms 3 and 3.
    # 0->B + 1->A = 4 + 6 = 10 beats 0->A + 1->B = 5 + 2 = 7.
    result = solve(gap_problem([[5, 4], [6, 2]], [[3, 1], [1, 3]], [3, 3]))
    assert result.assignment.tolist() == [1, 0]
    assert result.objective == 10


def test_intake_cap_in_the_gap_engine() -> None:
    side = SideConstraints(intake_cap=np.array([1]))
    result = solve(gap_problem([[5], [3], [3]], [3, 1, 1], [9], side))
    assert result.assignment.tolist() == [0, -1, -1]


def test_category_cap_in_the_gap_engine() -> None:
    side = SideConstraints(category=np.array([True, True, False]), category_cap=np.array([1, 2]))
    result = solve(gap_problem([[9, 1], [8, 2], [2, 1]], [[2, 1], [1, 1], [1, 2]], [3, 3], side))
    assert result.assignment.tolist() == [0, 1, 0]


def test_lagrangian_bound_holds_for_any_multipliers() -> None:
    rng = np.random.default_rng(8)
    for _ in range(15):
        problem = random_problem(rng, pair_load=True, side=True)
        gains = prepare(problem)
        m = problem.m
        mult = Multipliers(rng.random(m) * 3, rng.random(m) * 3, rng.random(m) * 3)
        bound = full_bound(DenseGap.of(gains), mult, limits_of(problem)).value
        assert bound - problem.unmatched_penalty.sum() >= brute_force(problem) - 1e-9


def test_reduced_cost_fixing_keeps_every_better_solution() -> None:
    rng = np.random.default_rng(9)
    for _ in range(15):
        problem = random_problem(rng, pair_load=True, side=True)
        gains = prepare(problem)
        limits = limits_of(problem)
        lag = lagrangian(gains, DenseGap.of(gains), limits, start_mask(gains.cost, gains.usable, 1), 1e18, 3)
        kept = gap._fix(lag, gains, lag.gain)
        assert kept.safe
        on_kept = BatchProblem(
            problem.profit, kept.mask, problem.load, problem.capacity, problem.unmatched_penalty, problem.side
        )
        incumbent = lag.gain - problem.unmatched_penalty.sum()
        assert max(incumbent, brute_force(on_kept)) == pytest.approx(brute_force(problem))


def test_greedy_respects_every_limit() -> None:
    rng = np.random.default_rng(10)
    for _ in range(20):
        problem = random_problem(rng, pair_load=True, side=True)
        gains = prepare(problem)
        arcs = arcs_from_mask(gains, gains.usable)
        assert is_feasible(problem, greedy(arcs, arcs.gain, limits_of(problem)))


def test_cut_model_reports_the_lagrangian_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tighten, "MAX_CP_ARCS", 5)
    rng = np.random.default_rng(12)
    n, m = 40, 8
    problem = BatchProblem(
        rng.random((n, m)) * 10, rng.random((n, m)) < 0.8, rng.integers(1, 4, (n, m)), rng.integers(2, 8, m), np.ones(n)
    )
    result = solve(problem, time_limit_s=1.0)
    assert result.engine == "cpsat+pruned"
    assert result.bound_source == "lagrangian"
    assert is_feasible(problem, result.assignment)
    assert result.bound >= result.objective
    assert result.gap == pytest.approx((result.bound - result.objective) / max(1.0, abs(result.bound)))


def test_minmax_in_the_gap_engine_lowers_the_peak() -> None:
    # Both prefer peer 0 a little; together they fill it (3 + 1 of 4 units).
    profit = [[10, 9.9], [10, 9.9]]
    load = [[3, 3], [1, 1]]
    plain = solve(gap_problem(profit, load, [4, 4]))
    assert plain.assignment.tolist() == [0, 0]
    fair = solve(gap_problem(profit, load, [4, 4], SideConstraints(fairness="minmax")), time_limit_s=2.0)
    assert sorted(fair.assignment.tolist()) == [0, 1]
    assert fair.engine == "cpsat+minmax"
    assert fair.objective >= 0.99 * plain.objective


@pytest.mark.serial  # within 2.5 s of a 1 s limit
def test_time_limit_is_respected() -> None:
    rng = np.random.default_rng(13)
    n, m = 600, 200
    problem = BatchProblem(
        50 * rng.random(m)[None, :] + 50 * rng.random((n, m)),
        rng.random((n, m)) < 0.7,
        rng.integers(1, 4, (n, m)),
        2 * rng.integers(1, 6, m),
        10 * rng.random(n),
    )
    result = solve(problem, time_limit_s=1.5)
    assert result.seconds < 2.5
    assert is_feasible(problem, result.assignment)
    assert result.bound >= result.objective
    assert result.gap < 0.02
