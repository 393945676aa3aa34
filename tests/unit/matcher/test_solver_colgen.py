"""Column generation on the knapsack Lagrangian dual (``colgen.py``) against independent answers.

Its bound is never below the optimum (brute force on tiny problems, CP-SAT
on a small realistic roster); once converged it equals the Lagrangian dual
computed another way (the master over every packing of every peer, all
enumerated), and it is never above the subgradient search's best.
"""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest
from ortools.linear_solver import pywraplp

from alongside.matcher.domain.solver import BatchProblem, colgen
from alongside.matcher.domain.solver.arcs import Arcs, arcs_from_mask, limits_of
from alongside.matcher.domain.solver.cpsat import build_model, run
from alongside.matcher.domain.solver.gains import prepare
from alongside.matcher.domain.solver.kbound import evaluate, proven
from alongside.matcher.domain.solver.knapsack_lagrange import knapsack_lagrangian
from bench.realistic import realistic_instance
from tests.unit.matcher.test_solver_knapsack import full_arcs, optima, small_gap


def lagrangian_dual_by_enumeration(arcs: Arcs, capacity: np.typing.NDArray[np.int64], n: int) -> float:
    """The master LP over every feasible packing of every peer: the Lagrangian dual, independently."""
    solver = pywraplp.Solver.CreateSolver("GLOP")
    inf = solver.infinity()
    rows = [solver.Constraint(-inf, 1.0) for _ in range(n)]
    objective = solver.Objective()
    objective.SetMaximization()
    for j in range(capacity.size):
        mine = np.flatnonzero(arcs.cols == j)
        convex = solver.Constraint(-inf, 1.0)
        for size in range(1, mine.size + 1):
            for packing in itertools.combinations(mine.tolist(), size):
                if int(arcs.load[list(packing)].sum()) > int(capacity[j]):
                    continue
                x = solver.NumVar(0.0, inf, "")
                objective.SetCoefficient(x, float(arcs.cost[list(packing)].sum()))
                convex.SetCoefficient(x, 1.0)
                for k in packing:
                    rows[int(arcs.rows[k])].SetCoefficient(x, 1.0)
    assert solver.Solve() == pywraplp.Solver.OPTIMAL
    return float(objective.Value())


def dual_of(problem: BatchProblem, arcs: Arcs, seed: int) -> colgen.Dual:
    rng = np.random.default_rng(seed + 4000)
    start = evaluate(arcs, rng.random(problem.n) * 10, problem.capacity)
    nobody = np.full(problem.n, -1, dtype=np.int64)
    return colgen.exact_dual(arcs, problem.capacity, start, nobody, float("inf"))


@pytest.mark.parametrize("seed", range(30))
def test_the_bound_is_never_below_the_optimum(seed: int) -> None:
    problem = small_gap(seed)
    arcs, penalty = full_arcs(problem)
    _, optimum = optima(problem)
    dual = dual_of(problem, arcs, seed)
    assert proven(dual.best.value) - penalty >= optimum - 1e-9
    # The bound is an evaluation: L at its own multipliers, recomputed.
    assert evaluate(arcs, dual.best.u, problem.capacity).value == pytest.approx(dual.best.value)
    assert (dual.best.u >= 0).all()


@pytest.mark.parametrize("seed", range(30))
def test_it_reaches_the_lagrangian_dual_computed_by_enumeration(seed: int) -> None:
    problem = small_gap(seed, n=6, m=3)
    arcs, _ = full_arcs(problem)
    want = lagrangian_dual_by_enumeration(arcs, problem.capacity, problem.n)
    dual = dual_of(problem, arcs, seed)
    assert dual.rounds < colgen.MAX_ROUNDS
    assert dual.best.value == pytest.approx(want, rel=1e-7, abs=1e-6)
    assert dual.master == pytest.approx(want, rel=1e-7, abs=1e-6)
    for packing, peer in zip(dual.columns, dual.peers.tolist(), strict=True):  # columns are packings
        assert (arcs.cols[packing] == peer).all()
        assert int(arcs.load[packing].sum()) <= int(problem.capacity[peer])
        assert np.unique(arcs.rows[packing]).size == packing.size


def test_on_a_realistic_roster_it_holds_against_cp_sat_and_beats_the_subgradient() -> None:
    problem = realistic_instance(30, 50, seed=2)
    gains, limits = prepare(problem), limits_of(problem)
    arcs = arcs_from_mask(gains, gains.usable)
    cp = run(build_model(arcs, limits), arcs, np.full(problem.n, -1, dtype=np.int64), 30.0, 1)
    assert cp.status == "OPTIMAL" and cp.assignment is not None
    rows = np.flatnonzero(cp.assignment >= 0)
    optimum = int(gains.pair_cost(rows, cp.assignment[rows]).sum())
    nobody = np.full(problem.n, -1, dtype=np.int64)
    search = knapsack_lagrangian(arcs, limits, np.zeros(problem.n), nobody, float("inf"))
    dual = colgen.exact_dual(arcs, limits.capacity, evaluate(arcs, np.zeros(problem.n), limits.capacity),
                             nobody, float("inf"))  # fmt: skip
    assert dual.rounds < colgen.MAX_ROUNDS
    assert proven(dual.best.value) >= optimum
    assert dual.best.value <= search.best.value * (1 + 1e-9)
    assert dual.master <= dual.best.value * (1 + 1e-9)


def test_it_stops_once_the_incumbent_is_proven() -> None:
    problem = small_gap(3)
    arcs, penalty = full_arcs(problem)
    _, optimum = optima(problem)
    start = evaluate(arcs, np.zeros(problem.n), problem.capacity)
    nobody = np.full(problem.n, -1, dtype=np.int64)
    dual = colgen.exact_dual(arcs, problem.capacity, start, nobody, float("inf"), gain=round(optimum + penalty) + 10**6)
    assert dual.rounds == 0 and dual.best is start


def test_packings_join_an_assignments_packings_without_repeats() -> None:
    arcs = Arcs(
        rows=np.array([0, 0, 1, 2, 3], dtype=np.int64),
        cols=np.array([0, 1, 0, 1, 1], dtype=np.int64),
        gain=np.ones(5),
        cost=np.ones(5, dtype=np.int64),
        load=np.ones(5, dtype=np.int64),
    )
    packings = colgen.Packings.of(arcs, [np.array([0, 2]), np.array([3])])  # peer 0: {0, 1}; peer 1: {2}
    assert packings.size == 2 and packings.peer.tolist() == [0, 1]
    joined = packings.joined([np.array([0, -1, 1, 1]), np.array([0, 0, -1, -1])])  # {0} / {2, 3}; {0, 1} again
    got = {
        (int(joined.peer[k]), *joined.rows[joined.start[k] : joined.start[k + 1]].tolist()) for k in range(joined.size)
    }
    assert joined.size == len(got) == 4
    assert got == {(0, 0, 1), (1, 2), (0, 0), (1, 2, 3)}


def test_it_reports_its_best_bound_as_it_falls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(colgen, "REPORT_EVERY_S", 0.0)
    problem = realistic_instance(60, 100, seed=4)
    gains = prepare(problem)
    arcs = arcs_from_mask(gains, gains.usable)
    start = evaluate(arcs, np.zeros(problem.n), problem.capacity)
    told: list[float] = []
    nobody = np.full(problem.n, -1, dtype=np.int64)
    dual = colgen.exact_dual(arcs, problem.capacity, start, nobody, float("inf"), on_bound=told.append)
    assert told and told == sorted(told, reverse=True)  # the best so far: never rises
    assert told[0] <= start.value and told[-1] >= dual.best.value


def test_it_keeps_to_its_deadline_and_its_bound_stays_valid() -> None:
    problem = realistic_instance(200, 500, seed=3)
    gains = prepare(problem)
    arcs = arcs_from_mask(gains, gains.usable)
    start = evaluate(arcs, np.zeros(problem.n), problem.capacity)
    nobody = np.full(problem.n, -1, dtype=np.int64)
    asked = time.perf_counter()
    dual = colgen.exact_dual(arcs, problem.capacity, start, nobody, asked + 0.05)
    assert time.perf_counter() - asked < 1.0  # a master solve is cut at the deadline too
    assert dual.best.value <= start.value
    assert evaluate(arcs, dual.best.u, problem.capacity).value == pytest.approx(dual.best.value)
