"""The restricted master IP (``restricted.py``): feasible, never worse than the incumbent, skips capped problems."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from alongside.matcher.domain.solver import BatchProblem, SideConstraints, restricted, tighten
from alongside.matcher.domain.solver.arcs import limits_of
from alongside.matcher.domain.solver.bounds import DenseGap
from alongside.matcher.domain.solver.gains import Gains, prepare
from alongside.matcher.domain.solver.lagrange import lagrangian
from bench.realistic import realistic_instance
from tests.unit.matcher.test_solver_bruteforce import is_feasible, objective
from tests.unit.matcher.test_solver_knapsack import optima, small_gap


def knapsack_kept(problem: BatchProblem) -> tuple[tighten.Tightened, Gains]:
    gains, limits = prepare(problem), limits_of(problem)
    lag = lagrangian(gains, DenseGap.of(gains), limits, gains.usable, float("inf"), 40)
    return tighten.by_knapsack(lag, gains, limits, float("inf"), lambda *_: None), gains


def worse(kept: tighten.Tightened, gains: Gains, drop: int) -> tighten.Tightened:
    """``kept`` with its incumbent's first ``drop`` matched participants left out (a poorer start)."""
    assignment = kept.assignment.copy()
    assignment[np.flatnonzero(assignment >= 0)[:drop]] = -1
    rows = np.flatnonzero(assignment >= 0)
    gain = float(gains.gain[rows, assignment[rows]].sum())
    return dataclasses.replace(kept, assignment=assignment, gain=gain, closed=False)


@pytest.mark.parametrize("seed", range(3))
def test_on_a_realistic_roster_it_is_feasible_and_never_worse(seed: int) -> None:
    problem = realistic_instance(60, 100, seed=seed)
    kept, gains = knapsack_kept(problem)
    assert kept.packings is not None and kept.packings.size > 0
    for start in (kept, worse(kept, gains, 10)):
        out = restricted.improve(start, gains, limits_of(problem), 5.0, seed)
        assert is_feasible(problem, out.assignment)
        assert objective(problem, out.assignment) >= objective(problem, start.assignment) - 1e-9
        used = np.flatnonzero(out.assignment >= 0)
        kept_pairs = set(zip(out.arcs.rows.tolist(), out.arcs.cols.tolist(), strict=True))
        assert all((int(i), int(out.assignment[i])) in kept_pairs for i in used)  # refixed around it
    # From the poor start it finds better: the packings hold the dual's good ones.
    poor = worse(kept, gains, 10)
    assert restricted.improve(poor, gains, limits_of(problem), 5.0, seed).gain > poor.gain


@pytest.mark.parametrize("seed", range(10))
def test_on_tiny_problems_it_stays_below_the_optimum(seed: int) -> None:
    problem = small_gap(seed, n=8, m=3)
    _, optimum = optima(problem)
    kept, gains = knapsack_kept(problem)
    out = restricted.improve(worse(kept, gains, 2), gains, limits_of(problem), 2.0, seed)
    assert is_feasible(problem, out.assignment)
    assert objective(problem, out.assignment) <= optimum + 1e-9


def test_problems_with_intake_caps_are_left_alone() -> None:
    base = realistic_instance(40, 60, seed=1)
    problem = dataclasses.replace(base, side=SideConstraints(intake_cap=np.full(base.m, 2, dtype=np.int64)))
    kept, gains = knapsack_kept(base)
    start = worse(kept, gains, 10)
    assert restricted.improve(start, gains, limits_of(problem), 5.0, 1) is start
