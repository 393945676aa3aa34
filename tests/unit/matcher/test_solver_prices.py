"""Slot prices from the potentials: a bound valid at any slots, exact at the optimum, and the arcs to add."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from alongside.matcher.domain.solver import BatchProblem, SideConstraints
from alongside.matcher.domain.solver.certify import potentials
from alongside.matcher.domain.solver.flow import FlowSolver, base_slots
from alongside.matcher.domain.solver.gains import Gains, prepare
from alongside.matcher.domain.solver.network import FlowSolution, Network, build_network, solve_network
from alongside.matcher.domain.solver.prices import arcs_to_add, check
from alongside.matcher.domain.solver.prune import start_mask

_INF = 10**18


def random_problem(rng: np.random.Generator, n: int = 40, m: int = 10) -> BatchProblem:
    side = SideConstraints(category=rng.random(n) < 0.4, category_cap=rng.integers(0, 3, m))
    quality = rng.random(m)  # contended: everyone wants the same peers
    profit = np.round(30 * quality[None, :] + 30 * rng.random((n, m))) - 10
    feasible = rng.random((n, m)) < 0.7
    return BatchProblem(profit, feasible, np.ones(n, np.int64), rng.integers(0, 5, m), rng.random(n) * 5, side)


def solve_on(problem: BatchProblem, gains: Gains, mask: np.ndarray, slots: np.ndarray) -> tuple[Network, FlowSolution]:
    rows, cols = np.nonzero(mask)
    rows, cols = rows.astype(np.int64), cols.astype(np.int64)
    net = build_network(problem, rows, cols, gains.pair_cost(rows, cols), slots)
    return net, solve_network(net)


def cases(seed: int, count: int) -> list[tuple[BatchProblem, Gains]]:
    rng = np.random.default_rng(seed)
    out = [(p, prepare(p)) for p in (random_problem(rng) for _ in range(count))]
    return [(p, g) for p, g in out if g.usable.any()]


def test_prices_from_one_level_bound_every_other_level() -> None:
    rng = np.random.default_rng(7)
    for problem, gains in cases(1, 15):
        net, sol = solve_on(problem, gains, start_mask(gains.cost, gains.usable, k=2), base_slots(problem, 1))
        prices = check(net, potentials(net, sol), gains.cost, 3).prices
        for _ in range(5):
            slots = np.minimum(base_slots(problem, 1), rng.integers(0, 5, problem.m))
            _, full = solve_on(problem, gains, gains.usable, slots)
            assert prices.bound_at(slots) >= full.total_cost


def test_bound_meets_the_gain_exactly_when_no_arc_is_left_to_add() -> None:
    # Complementary slackness: the prices are optimal for the kept arcs, so the bound exceeds the
    # gain only through arcs outside them, which are then offered. Never a dead end.
    rng = np.random.default_rng(8)
    for problem, gains in cases(2, 25):
        slots = np.minimum(base_slots(problem, 1), rng.integers(1, 5))
        net, sol = solve_on(problem, gains, start_mask(gains.cost, gains.usable, k=1), slots)
        found = check(net, potentials(net, sol), gains.cost, 3)
        _, full = solve_on(problem, gains, gains.usable, slots)
        assert found.bound >= full.total_cost >= sol.total_cost
        assert (found.bound == sol.total_cost) == (found.rows.size == 0)


def test_only_usable_arcs_outside_the_kept_ones_are_added() -> None:
    for problem, gains in cases(3, 25):
        mask = start_mask(gains.cost, gains.usable, k=1)
        net, sol = solve_on(problem, gains, mask, base_slots(problem, 1))
        added = arcs_to_add(net, potentials(net, sol), gains.cost, 4)
        assert not (added & ~gains.usable).any()
        assert not (added & mask).any()
        assert (added.sum(axis=1) <= 4 + problem.m // 2).all()  # about k per row (ties kept)


def bellman_ford(net: Network, sol: FlowSolution) -> tuple[np.ndarray, np.ndarray]:
    """Distances to the sink over the residual graph, arc by arc, in plain Python."""
    n, m, s = net.n, net.m, net.num_splits
    sink = n + m + s
    arcs: list[tuple[int, int, int]] = []
    heads = net.right_head(net.rows, net.cols)
    for e in range(net.rows.size):
        i, h, c = int(net.rows[e]), n + int(heads[e]), int(net.cost[e])
        arcs.append((h, i, c) if sol.arc_flow[e] > 0 else (i, h, -c))
    for i in range(n):
        arcs.append((i, sink, 0) if sol.assignment[i] >= 0 else (sink, i, 0))
    for j in range(m):
        if sol.peer_flow[j] < net.slots[j]:
            arcs.append((n + j, sink, 0))
        if sol.peer_flow[j] > 0:
            arcs.append((sink, n + j, 0))
        if net.split_of[j] >= 0:
            split = n + int(net.split_of[j])
            if sol.split_flow[j] < net.split_cap[j]:
                arcs.append((split, n + j, 0))
            if sol.split_flow[j] > 0:
                arcs.append((n + j, split, 0))
    dist = [_INF] * (sink + 1)
    dist[sink] = 0
    for _ in range(sink + 1):
        for u, v, c in arcs:
            if dist[v] < _INF and dist[v] + c < dist[u]:
                dist[u] = dist[v] + c
    d = np.array(dist, dtype=np.int64)
    return d[:n], d[n:]


@pytest.mark.parametrize("seed", range(4))
def test_potentials_are_minus_the_shortest_distances(seed: int) -> None:
    for problem, gains in cases(10 + seed, 6):
        net, sol = solve_on(problem, gains, start_mask(gains.cost, gains.usable, k=2), base_slots(problem, 1))
        pot = potentials(net, sol)
        dist_p, dist_r = bellman_ford(net, sol)
        reach_p, reach_r = dist_p < _INF, dist_r < _INF
        assert (pot.participant[reach_p] == -dist_p[reach_p]).all()
        assert (pot.right[reach_r] == -dist_r[reach_r]).all()


def test_a_solve_remembered_on_fewer_arcs_still_certifies() -> None:
    # The same slots asked again after the arcs grew: the earlier flow is reused as a start,
    # and whatever is returned is the optimum over every arc.
    problem, gains = cases(5, 1)[0]
    problem = replace(problem, side=SideConstraints())
    gains = prepare(problem)
    solver = FlowSolver(problem, gains, k=1, prune_above=0)
    low = np.minimum(base_slots(problem, 1), 1)
    first = solver.search(low, lambda gain, bound: True)
    solver.solve(base_slots(problem, 1))
    again = solver.search(low)
    _, full = solve_on(problem, gains, gains.usable, low)
    assert again.optimal and again.gain == full.total_cost >= first.gain
