"""An independent brute-force oracle for tiny batch problems, and solve() against it.

``brute_force`` enumerates every assignment with plain Python, so it shares
no code with the solver. The tests here pit ``solve()`` (whichever engine it
picks) against it on seeded random instances with every side constraint.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pytest

from alongside.matcher.domain.solver import BatchProblem, SideConstraints, solve


def is_feasible(problem: BatchProblem, assignment: Sequence[int] | np.ndarray) -> bool:
    """Every hard rule, checked pair by pair."""
    m = problem.profit.shape[1]
    side = problem.side
    load = [0] * m
    count = [0] * m
    cat = [0] * m
    for i, j in enumerate(assignment):
        if j < 0:
            continue
        if not problem.feasible[i, j]:
            return False
        w = int(problem.load[i, j]) if problem.load.ndim == 2 else int(problem.load[i])
        load[j] += w
        count[j] += 1
        if side.category is not None and side.category[i]:
            cat[j] += 1
    for j in range(m):
        if load[j] > problem.capacity[j]:
            return False
        if side.intake_cap is not None and count[j] > side.intake_cap[j]:
            return False
        if side.category_cap is not None and cat[j] > side.category_cap[j]:
            return False
    return True


def objective(problem: BatchProblem, assignment: Sequence[int] | np.ndarray) -> float:
    return sum(
        float(problem.profit[i, j]) if j >= 0 else -float(problem.unmatched_penalty[i])
        for i, j in enumerate(assignment)
    )


def brute_force(problem: BatchProblem) -> float:
    """The optimum by enumeration ((m + 1) ** n assignments)."""
    n, m = problem.profit.shape
    choices = [[-1] + [j for j in range(m) if problem.feasible[i, j]] for i in range(n)]
    return max(objective(problem, a) for a in itertools.product(*choices) if is_feasible(problem, a))


def random_problem(rng: np.random.Generator, *, pair_load: bool, side: bool) -> BatchProblem:
    n, m = int(rng.integers(2, 7)), int(rng.integers(1, 4))
    load = rng.integers(1, 4, (n, m)) if pair_load else np.ones(n, dtype=np.int64)
    sides = SideConstraints()
    if side:
        sides = SideConstraints(
            intake_cap=rng.integers(0, 3, m),
            category=rng.random(n) < 0.5,
            category_cap=rng.integers(0, 2, m),
        )
    return BatchProblem(
        profit=np.round(rng.random((n, m)) * 10, 2),
        feasible=rng.random((n, m)) < 0.75,
        load=load.astype(np.int64),
        capacity=rng.integers(1, 6 if pair_load else 4, m).astype(np.int64),
        unmatched_penalty=np.round(rng.random(n) * 4, 2),
        side=sides,
    )


def test_brute_force_on_a_hand_instance() -> None:
    problem = BatchProblem(
        profit=np.array([[5.0, 1.0], [4.0, 3.0]]),
        feasible=np.ones((2, 2), dtype=bool),
        load=np.ones(2, dtype=np.int64),
        capacity=np.array([1, 1]),
        unmatched_penalty=np.zeros(2),
    )
    assert brute_force(problem) == 8.0


@pytest.mark.parametrize(("pair_load", "side"), [(False, False), (False, True), (True, False), (True, True)])
def test_solve_matches_brute_force(pair_load: bool, side: bool) -> None:
    rng = np.random.default_rng(17 + 2 * pair_load + side)
    for _ in range(12):
        problem = random_problem(rng, pair_load=pair_load, side=side)
        result = solve(problem, time_limit_s=5.0)
        assert is_feasible(problem, result.assignment)
        assert result.objective == pytest.approx(brute_force(problem), abs=1e-6)
        assert result.status == "OPTIMAL"
        assert result.gap == 0.0
        assert result.bound == pytest.approx(result.objective)
