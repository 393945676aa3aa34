"""The flow engine on tiny instances whose optimum is worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from alongside.matcher.domain.solver import BatchProblem, SideConstraints, solve
from alongside.matcher.domain.solver.gains import choose_scale, prepare


def problem(
    profit: list[list[float]],
    capacity: list[int],
    penalty: list[float] | None = None,
    feasible: list[list[bool]] | None = None,
    load: list[int] | None = None,
    side: SideConstraints | None = None,
) -> BatchProblem:
    p = np.array(profit, dtype=np.float64)
    n = p.shape[0]
    return BatchProblem(
        profit=p,
        feasible=np.ones(p.shape, dtype=bool) if feasible is None else np.array(feasible),
        load=np.ones(n, dtype=np.int64) if load is None else np.array(load, dtype=np.int64),
        capacity=np.array(capacity, dtype=np.int64),
        unmatched_penalty=np.zeros(n) if penalty is None else np.array(penalty, dtype=np.float64),
        side=SideConstraints() if side is None else side,
    )


def test_assignment_takes_the_better_pairing() -> None:
    # 0->0 + 1->1 = 5 + 3 = 8 beats 0->1 + 1->0 = 1 + 4 = 5.
    result = solve(problem([[5, 1], [4, 3]], [1, 1]))
    assert result.assignment.tolist() == [0, 1]
    assert result.objective == 8.0
    assert (result.status, result.engine, result.gap, result.bound) == ("OPTIMAL", "flow", 0.0, 8.0)
    assert result.bound_source == "optimal"


def test_capacity_is_a_count_of_unit_loads() -> None:
    # One peer with room for two: the two best are taken, the third pays its penalty.
    result = solve(problem([[3], [2], [1]], [2], penalty=[0.5, 0.5, 0.5]))
    assert result.assignment.tolist() == [0, 0, -1]
    assert result.objective == pytest.approx(3 + 2 - 0.5)


def test_urgent_participant_preferred_when_capacity_is_short() -> None:
    # Routine fits better (10 vs 8) but leaving the urgent one out costs 5:
    # urgent in: 8 - 1 = 7; routine in: 10 - 5 = 5.
    result = solve(problem([[10], [8]], [1], penalty=[1, 5]))
    assert result.assignment.tolist() == [-1, 0]
    assert result.objective == pytest.approx(7.0)


def test_infeasible_pair_is_never_assigned() -> None:
    result = solve(problem([[100, 1], [1, 1]], [1, 1], feasible=[[False, True], [True, True]]))
    assert result.assignment.tolist() == [1, 0]


def test_everyone_unmatched_when_nothing_is_feasible() -> None:
    result = solve(problem([[5, 5]], [1, 1], penalty=[2], feasible=[[False, False]]))
    assert result.assignment.tolist() == [-1]
    assert result.objective == -2.0


def test_a_pair_worth_less_than_being_unmatched_is_left_out() -> None:
    # Gain = profit + penalty = -3 + 1 < 0: unmatched (-1) beats matched (-3).
    result = solve(problem([[-3.0]], [1], penalty=[1]))
    assert result.assignment.tolist() == [-1]
    assert result.objective == -1.0


def test_uniform_load_divides_capacity() -> None:
    # Every pair weighs 2 units; 5 units hold two participants.
    result = solve(problem([[3], [2], [1]], [5], load=[2, 2, 2]))
    assert result.assignment.tolist() == [0, 0, -1]
    assert result.engine == "flow"


def test_intake_cap_limits_new_participants() -> None:
    side = SideConstraints(intake_cap=np.array([1, 3]))
    result = solve(problem([[9, 1], [8, 2]], [3, 3], side=side))
    # Peer 0 may take one new participant: 9 + 2 = 11 beats 8 + 1 = 9.
    assert result.assignment.tolist() == [0, 1]
    assert result.objective == 11.0


def test_zero_capacity_peer_takes_nobody() -> None:
    result = solve(problem([[9, 1]], [0, 1]))
    assert result.assignment.tolist() == [1]


def test_empty_problems() -> None:
    nobody = BatchProblem(
        np.zeros((0, 2)), np.zeros((0, 2), bool), np.ones(0, np.int64), np.ones(2, np.int64), np.ones(0)
    )
    none = solve(nobody)
    assert none.assignment.size == 0 and none.objective == 0.0
    no_peers = BatchProblem(
        np.zeros((2, 0)), np.zeros((2, 0), bool), np.ones(2, np.int64), np.zeros(0, np.int64), np.ones(2)
    )
    result = solve(no_peers)
    assert result.assignment.tolist() == [-1, -1] and result.objective == -2.0


def test_float_profits_are_scaled_and_reported_in_caller_units() -> None:
    result = solve(problem([[0.1234567, 0.3], [0.3, 0.1234567]], [1, 1]))
    assert result.assignment.tolist() == [1, 0]
    assert result.objective == pytest.approx(0.6, abs=1e-12)


def test_scale_is_exact_for_small_integers_and_relative_otherwise() -> None:
    ints = np.array([[3.0, 40.0]])
    assert choose_scale(ints, np.ones_like(ints, dtype=bool)) == 1.0
    floats = np.array([[0.5, 2.0]])
    assert choose_scale(floats, np.ones_like(floats, dtype=bool)) == 2.0**20 / 2.0
    gains = prepare(problem([[0.5, 2.0]], [1, 1]))
    assert gains.rounding == pytest.approx(0.5 / gains.scale)


def test_prepare_picks_the_scale_choose_scale_gives() -> None:
    # prepare takes the largest gain from its masked copy; it must agree with the masked maximum.
    rng = np.random.default_rng(2)
    for integral in (True, False):
        for _ in range(10):
            n, m = 6, 4
            profit = rng.integers(-20, 40, (n, m)).astype(float) if integral else rng.random((n, m)) * 40 - 10
            feasible = rng.random((n, m)) < 0.7
            prob = BatchProblem(profit, feasible, np.ones(n, np.int64), np.ones(m, np.int64), np.zeros(n))
            gains = prepare(prob)
            assert gains.scale == choose_scale(profit, feasible & (profit > 0))
