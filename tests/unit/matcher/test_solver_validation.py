"""solve() rejects bad input with InvalidArgument naming the field, never a value."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from alongside.kit.errors import InvalidArgument
from alongside.matcher.domain.solver import BatchProblem, SideConstraints, solve


def good() -> BatchProblem:
    return BatchProblem(
        profit=np.array([[3.0, 1.0], [2.0, 4.0], [1.0, 1.0]]),
        feasible=np.ones((3, 2), dtype=bool),
        load=np.ones(3, dtype=np.int64),
        capacity=np.array([1, 1]),
        unmatched_penalty=np.array([0.5, 0.5, 0.5]),
    )


def reject(problem: BatchProblem, field: str, **kwargs: Any) -> InvalidArgument:
    with pytest.raises(InvalidArgument) as caught:
        solve(problem, **kwargs)
    assert caught.value.field == field
    return caught.value


def test_good_problem_solves() -> None:
    assert solve(good()).status == "OPTIMAL"


def test_negative_capacity() -> None:
    error = reject(replace(good(), capacity=np.array([1, -3])), "capacity")
    assert "-3" not in error.message


def test_load_below_one_on_a_feasible_pair() -> None:
    reject(replace(good(), load=np.array([1, 0, 1])), "load")


def test_load_zero_is_allowed_where_nothing_is_feasible() -> None:
    feasible = np.ones((3, 2), dtype=bool)
    feasible[1] = False
    problem = replace(good(), load=np.array([1, 0, 1]), feasible=feasible)
    assert solve(problem).assignment[1] == -1


def test_pair_load_below_one() -> None:
    load = np.ones((3, 2), dtype=np.int64)
    load[2, 1] = 0
    reject(replace(good(), load=load), "load")


def test_load_with_the_wrong_shape() -> None:
    reject(replace(good(), load=np.ones(4, dtype=np.int64)), "load")


def test_fractional_load() -> None:
    reject(replace(good(), load=np.array([1.0, 1.5, 1.0])), "load")


def test_feasible_shape_mismatch() -> None:
    reject(replace(good(), feasible=np.ones((2, 2), dtype=bool)), "feasible")


def test_feasible_must_be_boolean() -> None:
    reject(replace(good(), feasible=np.ones((3, 2))), "feasible")


def test_capacity_shape_mismatch() -> None:
    reject(replace(good(), capacity=np.array([1, 1, 1])), "capacity")


def test_nan_profit() -> None:
    profit = good().profit.copy()
    profit[0, 1] = np.nan
    reject(replace(good(), profit=profit), "profit")


def test_infinite_profit_only_where_infeasible() -> None:
    profit = good().profit.copy()
    profit[0, 1] = -np.inf
    reject(replace(good(), profit=profit), "profit")
    feasible = np.ones((3, 2), dtype=bool)
    feasible[0, 1] = False
    assert solve(replace(good(), profit=profit, feasible=feasible)).assignment[0] != 1


def test_profit_must_be_two_dimensional() -> None:
    reject(replace(good(), profit=np.ones(3)), "profit")


def test_negative_or_nan_penalty() -> None:
    reject(replace(good(), unmatched_penalty=np.array([0.0, -1.0, 0.0])), "unmatched_penalty")
    reject(replace(good(), unmatched_penalty=np.array([0.0, np.nan, 0.0])), "unmatched_penalty")


def test_side_constraint_shapes() -> None:
    reject(replace(good(), side=SideConstraints(intake_cap=np.array([1]))), "side.intake_cap")
    reject(replace(good(), side=SideConstraints(intake_cap=np.array([1, -1]))), "side.intake_cap")
    reject(replace(good(), side=SideConstraints(category=np.array([True, False, True]))), "side.category")
    both = SideConstraints(category=np.array([1, 0, 1]), category_cap=np.array([1, 1]))
    reject(replace(good(), side=both), "side.category")
    cap = SideConstraints(category=np.array([True, False, True]), category_cap=np.array([1, -1]))
    reject(replace(good(), side=cap), "side.category_cap")


def test_fairness_options() -> None:
    reject(replace(good(), side=SideConstraints(fairness="max")), "side.fairness")
    reject(replace(good(), side=SideConstraints(fairness_tolerance=1.5)), "side.fairness_tolerance")


def test_time_limit_must_be_positive() -> None:
    reject(good(), "time_limit_s", time_limit_s=0.0)
