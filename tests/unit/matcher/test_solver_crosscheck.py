"""Flow and CP-SAT must agree where both apply (unit load), on seeded random instances."""

from __future__ import annotations

import time

import numpy as np
import pytest

from alongside.matcher.domain.solver import BatchProblem, SideConstraints, solve
from alongside.matcher.domain.solver.gains import objective_of, prepare
from alongside.matcher.domain.solver.gap import solve_gap
from tests.unit.matcher.test_solver_bruteforce import is_feasible


def random_unit_problem(rng: np.random.Generator, n: int, m: int, side: bool) -> BatchProblem:
    quality = rng.random(m)
    sides = SideConstraints()
    if side:
        sides = SideConstraints(
            intake_cap=rng.integers(1, 4, m), category=rng.random(n) < 0.3, category_cap=rng.integers(0, 3, m)
        )
    return BatchProblem(
        profit=np.round(50 * quality[None, :] + 50 * rng.random((n, m)), 1),
        feasible=rng.random((n, m)) < 0.7,
        load=np.ones(n, dtype=np.int64),
        capacity=rng.integers(1, 6, m),
        unmatched_penalty=np.round(np.where(rng.random(n) < 0.2, 40.0, 10.0) * rng.random(n), 1),
        side=sides,
    )


@pytest.mark.parametrize("side", [False, True])
def test_flow_and_cpsat_agree(side: bool) -> None:
    rng = np.random.default_rng(2026 + side)
    for _ in range(8):
        problem = random_unit_problem(rng, int(rng.integers(10, 60)), int(rng.integers(3, 15)), side)
        flow = solve(problem)
        assert flow.engine.startswith("flow")
        outcome = solve_gap(problem, prepare(problem), deadline=time.perf_counter() + 5.0, seed=0)
        assert outcome.status == "OPTIMAL"
        assert is_feasible(problem, flow.assignment)
        assert is_feasible(problem, outcome.assignment)
        assert objective_of(problem, outcome.assignment) == pytest.approx(flow.objective, abs=1e-6)


def test_result_fields_are_consistent() -> None:
    rng = np.random.default_rng(7)
    for _ in range(5):
        problem = random_unit_problem(rng, 40, 10, side=True)
        for result in (solve(problem), solve(problem, seed=3)):
            assert result.assignment.dtype == np.int64
            assert result.objective == pytest.approx(objective_of(problem, result.assignment))
            assert result.bound >= result.objective
            assert result.seconds >= 0
            if result.status == "OPTIMAL":
                assert result.gap == 0.0 and result.bound == result.objective
