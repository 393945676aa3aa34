"""The min-cost-flow network of a batch match, and one exact solve of it.

Nodes: participants ``0..n-1`` (supply 1 each), peers ``n..n+m-1``, the
sink ``n+m`` (demand ``n``), then one split node per peer whose category cap
binds. Arcs, in this order:

- pair ``i -> j`` (capacity 1, cost ``-gain``); a category participant's arc
  goes to ``j``'s split node when ``j`` has one;
- unmatched ``i -> sink`` (capacity 1, cost 0): the ``-sum(u)`` constant of
  the objective is added back by the caller;
- ``j -> sink`` with capacity ``slots[j]`` (participants that fit);
- split ``j' -> j`` with capacity ``category_cap[j]``.

A per-peer bound on one category is a split node, a bound on load is an arc
capacity: both stay inside network flow, so the solve is exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from ortools.graph.python import min_cost_flow

from alongside.matcher.domain.solver.problem import BatchProblem

IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class Network:
    """Pair arcs plus the capacities around them; right nodes are peers, splits, sink."""

    n: int
    m: int
    rows: IntArray
    cols: IntArray
    cost: IntArray
    slots: IntArray
    split_of: IntArray
    split_cap: IntArray
    category: NDArray[np.bool_]

    @property
    def num_splits(self) -> int:
        return int((self.split_of >= 0).sum())

    def right_head(self, rows: IntArray, cols: IntArray) -> IntArray:
        """Right-node index (0..m+splits) that pair arcs ``rows -> cols`` enter."""
        split = self.split_of[cols]
        return np.where(self.category[rows] & (split >= 0), split, cols)


@dataclass(frozen=True)
class FlowSolution:
    assignment: IntArray
    arc_flow: IntArray
    peer_flow: IntArray
    split_flow: IntArray
    total_cost: int


def build_network(problem: BatchProblem, rows: IntArray, cols: IntArray, cost: IntArray, slots: IntArray) -> Network:
    """A network over the given pair arcs, with split nodes where the category cap binds."""
    n, m = problem.n, problem.m
    side = problem.side
    split_of = np.full(m, -1, dtype=np.int64)
    split_cap = np.zeros(m, dtype=np.int64)
    category = np.zeros(n, dtype=np.bool_)
    if side.category is not None and side.category_cap is not None:
        category = side.category.astype(np.bool_)
        cap = side.category_cap.astype(np.int64)
        binds = np.flatnonzero(cap < slots)
        split_of[binds] = m + np.arange(binds.size)
        split_cap[binds] = cap[binds]
    return Network(n, m, rows, cols, cost, slots, split_of, split_cap, category)


def solve_network(net: Network) -> FlowSolution:
    """Solve exactly with SimpleMinCostFlow; every participant sends one unit."""
    n, m = net.n, net.m
    sink = n + m
    split_peers = np.flatnonzero(net.split_of >= 0)
    heads = net.right_head(net.rows, net.cols)
    heads = np.where(heads >= m, heads + n + 1, heads + n)
    tails = np.concatenate([net.rows, np.arange(n), n + np.arange(m), split_peers_nodes(net, split_peers)])
    to = np.concatenate([heads, np.full(n, sink), np.full(m, sink), n + split_peers])
    caps = np.concatenate([np.ones(net.rows.size + n, dtype=np.int64), net.slots, net.split_cap[split_peers]])
    costs = np.concatenate([-net.cost, np.zeros(n + m + split_peers.size, dtype=np.int64)])
    flow = min_cost_flow.SimpleMinCostFlow()
    arcs = flow.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int32), to.astype(np.int32), caps.astype(np.int64), costs.astype(np.int64)
    )
    flow.set_nodes_supplies(np.array([*range(n), sink], dtype=np.int32), np.array([1] * n + [-n], dtype=np.int64))
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow returned {status}")
    return _read(net, np.asarray(flow.flows(arcs), dtype=np.int64), int(flow.optimal_cost()))


def split_peers_nodes(net: Network, split_peers: IntArray) -> IntArray:
    """Solver node ids of the split nodes, in peer order."""
    return net.n + 1 + net.split_of[split_peers]


def _read(net: Network, flows: IntArray, cost: int) -> FlowSolution:
    e, n, m = net.rows.size, net.n, net.m
    pair = flows[:e]
    used = np.flatnonzero(pair > 0)
    assignment = np.full(n, -1, dtype=np.int64)
    assignment[net.rows[used]] = net.cols[used]
    peer_flow = flows[e + n : e + n + m]
    split_flow = np.zeros(m, dtype=np.int64)
    split_flow[net.split_of >= 0] = flows[e + n + m :]
    return FlowSolution(assignment, pair, peer_flow, split_flow, -cost)
