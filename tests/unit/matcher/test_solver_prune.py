"""Arc pruning is only a guess; the reduced-cost certificate makes it exact."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from alongside.matcher.domain.solver import BatchProblem, SideConstraints, flow
from alongside.matcher.domain.solver.certify import Potentials, potentials
from alongside.matcher.domain.solver.fairness import minmax_flow
from alongside.matcher.domain.solver.flow import FlowSolver, base_slots
from alongside.matcher.domain.solver.gains import Gains, prepare
from alongside.matcher.domain.solver.network import FlowSolution, Network, build_network, solve_network
from alongside.matcher.domain.solver.prices import arcs_to_add, check
from alongside.matcher.domain.solver.prune import start_mask, top_per_row

# Three peers with room for one each. With k = 1 the start set keeps, per
# participant, only its best peer and its best peer net of the peer's mean,
# plus each peer's best participant; that misses the arcs of the optimum.
TRAP = np.array([[9.0, 1.0, 6.0], [1.0, 9.0, 8.0], [9.0, 4.0, 6.0], [6.0, 1.0, 5.0]])


def unit_problem(profit: np.ndarray, capacity: np.ndarray) -> BatchProblem:
    n, m = profit.shape
    return BatchProblem(profit, np.ones((n, m), bool), np.ones(n, np.int64), capacity, np.zeros(n))


def solve_on(
    problem: BatchProblem, gains: Gains, mask: np.ndarray, slots: np.ndarray | None = None
) -> tuple[Network, FlowSolution]:
    rows, cols = np.nonzero(mask)
    rows, cols = rows.astype(np.int64), cols.astype(np.int64)
    slots = base_slots(problem, 1) if slots is None else slots
    net = build_network(problem, rows, cols, gains.pair_cost(rows, cols), slots)
    return net, solve_network(net)


def test_naive_pruning_loses_and_verified_pruning_does_not() -> None:
    problem = unit_problem(TRAP, np.ones(3, np.int64))
    gains = prepare(problem)
    mask = start_mask(gains.cost, gains.usable, k=1)
    _, naive = solve_on(problem, gains, mask)
    _, full = solve_on(problem, gains, gains.usable)
    assert (naive.total_cost, full.total_cost) == (18, 24)
    solver = FlowSolver(problem, gains, k=1, prune_above=0)
    verified = solver.solve(base_slots(problem, 1))
    assert verified.total_cost == 24
    assert solver.rounds >= 2


def test_certificate_flags_the_missing_arcs_and_passes_the_optimum() -> None:
    problem = unit_problem(TRAP, np.ones(3, np.int64))
    gains = prepare(problem)
    mask = start_mask(gains.cost, gains.usable, k=1)
    net, sol = solve_on(problem, gains, mask)
    bad = arcs_to_add(net, potentials(net, sol), gains.cost, 12)
    assert bad.any()
    assert not (bad & mask).any()
    net, sol = solve_on(problem, gains, gains.usable)
    assert not arcs_to_add(net, potentials(net, sol), gains.cost, 12).any()


def residual_reduced_costs(net: Network, sol: FlowSolution, pot: Potentials) -> np.ndarray:
    """Reduced cost of every arc of the residual graph, written out arc kind by arc kind."""
    p, r = pot.participant, pot.right
    sink = net.m + net.num_splits
    heads = net.right_head(net.rows, net.cols)
    used = sol.arc_flow > 0
    pair = -net.cost + p[net.rows] - r[heads]
    matched = sol.assignment >= 0
    peers = np.arange(net.m)
    split = np.flatnonzero(net.split_of >= 0)
    s_node = net.split_of[split]
    parts = [
        pair[~used],
        -pair[used],
        (p - r[sink])[matched],
        (r[sink] - p)[~matched],
        (r[peers] - r[sink])[sol.peer_flow < net.slots],
        (r[sink] - r[peers])[sol.peer_flow > 0],
        (r[s_node] - r[split])[sol.split_flow[split] < net.split_cap[split]],
        (r[split] - r[s_node])[sol.split_flow[split] > 0],
    ]
    return np.concatenate(parts)


def test_potentials_price_every_residual_arc_non_negatively() -> None:
    rng = np.random.default_rng(3)
    for _ in range(10):
        n, m = 30, 8
        side = SideConstraints(category=rng.random(n) < 0.4, category_cap=rng.integers(0, 3, m))
        problem = replace(unit_problem(np.round(rng.random((n, m)) * 50), rng.integers(0, 5, m)), side=side)
        gains = prepare(problem)
        net, sol = solve_on(problem, gains, start_mask(gains.cost, gains.usable, k=2))
        assert (residual_reduced_costs(net, sol, potentials(net, sol)) >= 0).all()


def test_dual_bound_is_valid_and_tight_at_the_optimum() -> None:
    rng = np.random.default_rng(4)
    for _ in range(10):
        n, m = 40, 10
        side = SideConstraints(category=rng.random(n) < 0.4, category_cap=rng.integers(0, 3, m))
        problem = replace(unit_problem(np.round(rng.random((n, m)) * 50), rng.integers(1, 4, m)), side=side)
        gains = prepare(problem)
        net, full = solve_on(problem, gains, gains.usable)
        assert check(net, potentials(net, full), gains.cost, 3).bound == full.total_cost
        net, pruned = solve_on(problem, gains, start_mask(gains.cost, gains.usable, k=1))
        assert check(net, potentials(net, pruned), gains.cost, 3).bound >= full.total_cost


def test_top_per_row_keeps_the_worst_violations() -> None:
    bad = np.array([[True, True, True, False], [False, True, False, False]])
    excess = np.array([[5, 9, 7, 0], [0, 1, 0, 0]], dtype=np.int64)
    assert top_per_row(bad, excess, k=2).tolist() == [[False, True, True, False], [False, True, False, False]]


def test_pruned_solve_matches_all_arcs_on_a_contended_instance() -> None:
    rng = np.random.default_rng(11)
    n, m = 300, 100
    quality = rng.random(m)
    profit = 50 * quality[None, :] + 50 * rng.random((n, m))
    feasible = rng.random((n, m)) > 0.3
    problem = BatchProblem(profit, feasible, np.ones(n, np.int64), rng.integers(1, 6, m), 20 * rng.random(n))
    gains = prepare(problem)
    solver = FlowSolver(problem, gains, k=2, prune_above=0)
    pruned = solver.solve(base_slots(problem, 1))
    _, full = solve_on(problem, gains, gains.usable)
    assert pruned.total_cost == full.total_cost
    assert solver.rounds >= 2


def test_pruned_solve_with_category_caps_and_minmax_matches_all_arcs() -> None:
    rng = np.random.default_rng(23)
    n, m = 200, 70
    profit = 50 * rng.random(m)[None, :] + 50 * rng.random((n, m))
    side = SideConstraints(category=rng.random(n) < 0.4, category_cap=np.full(m, 1), fairness="minmax")
    base = unit_problem(profit, rng.integers(1, 6, m))
    problem = replace(base, unmatched_penalty=10 * rng.random(n), side=side)
    gains = prepare(problem)
    pruned = minmax_flow(problem, FlowSolver(problem, gains, k=2, prune_above=0), 1)
    full = minmax_flow(problem, FlowSolver(problem, gains, prune_above=10**9), 1)
    assert pruned.total_cost == full.total_cost
    assert (np.bincount(pruned.assignment[pruned.assignment >= 0], minlength=m) <= problem.capacity).all()


def test_falls_back_to_every_arc_when_rounds_run_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(flow, "MAX_ROUNDS", 1)
    problem = unit_problem(TRAP, np.ones(3, np.int64))
    gains = prepare(problem)
    solver = FlowSolver(problem, gains, k=1, prune_above=0)
    assert solver.solve(base_slots(problem, 1)).total_cost == 24
    assert not solver.pruned


@pytest.mark.parametrize(
    ("tolerance", "measure"),
    [(0.0, "load"), (0.01, "load"), (0.3, "utilisation"), (0.01, "utilisation"), (0.7, "load")],
)
def test_pruned_minmax_matches_all_arcs_at_any_tolerance(tolerance: float, measure: str) -> None:
    # Lazy G* (the top solve stops within a fraction of the tolerance) and levels refuted by
    # prices alone must not change the answer; above tolerance 1/2 the top is certified outright.
    rng = np.random.default_rng(31)
    for _ in range(3):
        n, m = 150, 50
        profit = 50 * rng.random(m)[None, :] + 50 * rng.random((n, m))
        side = SideConstraints(
            category=rng.random(n) < 0.4,
            category_cap=rng.integers(0, 3, m),
            fairness="minmax",
            fairness_measure=measure,
            fairness_tolerance=tolerance,
        )
        problem = replace(unit_problem(profit, rng.integers(1, 7, m)), unmatched_penalty=10 * rng.random(n), side=side)
        gains = prepare(problem)
        pruned = minmax_flow(problem, FlowSolver(problem, gains, k=2, prune_above=0), 1)
        full = minmax_flow(problem, FlowSolver(problem, gains, prune_above=10**9), 1)
        assert pruned.total_cost == full.total_cost
        assert pruned.peer_flow.max() == full.peer_flow.max() or measure == "utilisation"


def reference_start_mask(cost: np.ndarray, usable: np.ndarray, k: int) -> np.ndarray:
    """The start set spelt out with full sorts: k-th largest per line, ties kept, off-pairs last."""

    def top(ranked: np.ndarray) -> np.ndarray:
        kth = np.sort(ranked, axis=1)[:, ::-1][:, min(k, ranked.shape[1]) - 1]
        return ranked >= kth[:, None]

    never = np.iinfo(np.int64).min
    ranked = np.where(usable, cost.astype(np.int64), never)
    mean = cost.astype(np.int64).sum(axis=0) // np.maximum(usable.sum(axis=0), 1)
    net = np.where(usable, cost - mean[None, :], never)
    return (top(ranked) | top(ranked.T).T | top(net)) & usable


def test_start_mask_matches_its_definition() -> None:
    rng = np.random.default_rng(41)
    for _ in range(40):
        n, m = int(rng.integers(1, 30)), int(rng.integers(1, 30))
        profit = np.round(rng.random((n, m)) * rng.choice([3, 50])) - 1  # small ranges: many ties
        problem = BatchProblem(profit, rng.random((n, m)) < rng.random(), np.ones(n, np.int64), np.ones(m), np.zeros(n))
        gains = prepare(problem)
        for k in (1, 2, 5, 40):
            expected = reference_start_mask(gains.cost, gains.usable, k)
            assert (start_mask(gains.cost, gains.usable, k) == expected).all()
