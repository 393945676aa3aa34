"""Optimality certificate for a flow solved on a subset of the pair arcs.

A feasible flow is a min-cost flow iff there are node potentials ``p`` with
non-negative reduced cost ``c(u, v) + p(u) - p(v)`` on every arc of its
residual graph. A pair arc that was pruned away carries no flow, so in the
*full* network it adds exactly one residual arc, ``i -> j`` with cost
``-cost[i, j]``. If potentials that are valid for the *pruned* network
also give every such arc a non-negative reduced cost, they certify the flow
optimal for the full network: no arc outside the subset could improve it.
Arcs that fail the test are the only candidates for improvement; the
caller adds them and solves again.

Which valid potentials we pick matters: a poor choice flags arcs that could
not actually improve anything. We take ``p = -D`` with ``D(v)`` the
shortest distance from ``v`` to the sink (valid by the triangle
inequality; the flow is optimal on the pruned network, so there is no
negative cycle). In market terms a peer's price is then as low as the
current matching allows (a peer with room left costs nothing) and each
participant's surplus is as high as possible, which is the choice most
likely to certify a pruned-away arc. ``D`` is found by Bellman-Ford over
integers (exact), vectorised with numpy: each round relaxes the
participants from the right-hand nodes (peers, split nodes, sink) and then
the right-hand nodes from the participants.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from alongside.matcher.domain.solver.gains import CostArray
from alongside.matcher.domain.solver.network import FlowSolution, IntArray, Network

_INF = np.iinfo(np.int64).max // 4
SignedArray = NDArray[np.signedinteger[Any]]


@dataclass(frozen=True)
class Potentials:
    """Node potentials: participants, then right nodes (peers, split nodes, sink) of one network."""

    participant: IntArray
    right: IntArray


def potentials(net: Network, sol: FlowSolution) -> Potentials:
    """Valid potentials for the residual graph of ``net`` under ``sol``: minus the distance to the sink."""
    right_count = net.m + net.num_splits + 1
    sink = right_count - 1
    used = sol.arc_flow > 0
    heads = net.right_head(net.rows, net.cols)
    free = np.flatnonzero(~used)
    free = free[np.argsort(net.rows[free], kind="stable")]
    by_row = _GroupMin(net.rows[free], net.n)
    free_heads, free_cost = heads[free], net.cost[free]
    back = np.flatnonzero(used)
    back = back[np.argsort(heads[back], kind="stable")]
    by_head = _GroupMin(heads[back], right_count)
    back_rows, back_cost = net.rows[back], net.cost[back]
    to_sink = np.where(sol.assignment >= 0, 0, _INF)  # a matched participant may drop out at no cost
    src, dst = _right_arcs(net, sol, sink)
    dist_r = np.full(right_count, _INF, dtype=np.int64)
    dist_r[sink] = 0
    dist_p = to_sink
    for _ in range(net.n + right_count + 1):
        dist_p = np.minimum(to_sink, by_row.apply(dist_r[free_heads] - free_cost))
        new = np.minimum(dist_r, by_head.apply(dist_p[back_rows] + back_cost))
        np.minimum.at(new, src, new[dst])
        new[sink] = 0
        if np.array_equal(new, dist_r):
            return _finite(-dist_p, -dist_r, int(net.cost.max(initial=0)))
        dist_r = np.minimum(new, _INF)
    raise RuntimeError("residual graph has a negative cycle; the flow is not optimal")


def _finite(participant: IntArray, right: IntArray, top_cost: int) -> Potentials:
    """Give nodes that cannot reach the sink finite potentials that keep every residual arc priced.

    Such a right node has no flow and no room (say a zero category cap); such a participant is
    unmatched with arcs only to those. Arcs leave them only towards each other, so the
    participants go just below every other potential, and the right nodes a full cost below that.
    """
    stuck_p, stuck_r = participant <= -_INF // 2, right <= -_INF // 2
    finite = np.concatenate([participant[~stuck_p], right[~stuck_r]])
    low_p = min(int(finite.min(initial=0)), 0) - 1
    low_r = low_p - top_cost - 1
    return Potentials(np.where(stuck_p, low_p, participant), np.where(stuck_r, low_r, right))


def _right_arcs(net: Network, sol: FlowSolution, sink: int) -> tuple[IntArray, IntArray]:
    """Zero-cost residual arcs among peers, split nodes and the sink."""
    peers = np.arange(net.m)
    src: list[IntArray] = [peers[sol.peer_flow < net.slots], np.full(int((sol.peer_flow > 0).sum()), sink)]
    dst: list[IntArray] = [np.full(int((sol.peer_flow < net.slots).sum()), sink), peers[sol.peer_flow > 0]]
    split = net.split_of >= 0
    room = split & (sol.split_flow < net.split_cap)
    back = split & (sol.split_flow > 0)
    src += [net.split_of[room], peers[back]]
    dst += [peers[room], net.split_of[back]]
    return np.concatenate(src).astype(np.int64), np.concatenate(dst).astype(np.int64)


class _GroupMin:
    """Minimum of values grouped by key; the keys arrive sorted, so one reduceat does it."""

    def __init__(self, sorted_keys: IntArray, size: int) -> None:
        if sorted_keys.size:
            self.starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
        else:
            self.starts = sorted_keys
        self.groups = sorted_keys[self.starts] if sorted_keys.size else sorted_keys
        self.size = size

    def apply(self, values: IntArray) -> IntArray:
        out = np.full(self.size, _INF, dtype=np.int64)
        if values.size:
            out[self.groups] = np.minimum.reduceat(values, self.starts)
        return out


# Potentials this small let the dense checks run in 32 bits without overflow
# (a cost is below 2**30; the check adds at most four potentials to it).
_SMALL = 2**27


def violations(
    net: Network, pot: Potentials, cost: CostArray, outside: NDArray[np.bool_]
) -> tuple[NDArray[np.bool_], SignedArray]:
    """Dense mask of ``outside`` arcs with negative reduced cost, and by how much (where positive)."""
    small = max(int(np.abs(pot.right).max(initial=0)), int(np.abs(pot.participant).max(initial=0))) < _SMALL
    head = _narrow(pot.right[: net.m], small)
    excess = _narrow(cost, small) + head[None, :]
    if net.num_splits and net.category.any():
        split = net.split_of >= 0
        cat_head = np.where(split, pot.right[np.maximum(net.split_of, 0)], pot.right[: net.m])
        excess[net.category] += _narrow(cat_head - pot.right[: net.m], small)[None, :]
    excess -= _narrow(pot.participant, small)[:, None]
    bad = excess > 0
    bad &= outside
    return bad, excess


def _narrow(values: NDArray[np.integer[Any]], small: bool) -> SignedArray:
    if small:
        return values.astype(np.int32)
    return values.astype(np.int64)


def dual_bound(net: Network, pot: Potentials, cost: CostArray) -> int:
    """An upper bound on the best integer gain over *every* usable arc, from these potentials.

    LP duality for the assignment with per-peer slots and category caps: for
    any prices ``b[j] >= 0`` (a slot of peer ``j``) and ``c[j] >= 0`` (a
    category place), ``sum_i max(0, max_j cost[i, j] - b[j] - c[j] * cat[i])
    + slots . b + category_cap . c`` bounds the optimum. The prices are read
    off the potentials (how much dearer the sink is than the peer, and the
    peer than its split node), so the bound is tight when the flow is optimal
    and stays useful when it is close. It proves a "no" without repairing.
    """
    sink = pot.right[net.m + net.num_splits]
    b = np.maximum(sink - pot.right[: net.m], 0)
    split = net.split_of >= 0
    c = np.zeros(net.m, dtype=np.int64)
    c[split] = np.maximum(sink - pot.right[net.split_of[split]] - b[split], 0)
    reduced = cost.astype(np.int64) - b[None, :]
    if c.any():
        reduced[net.category] -= c[None, :]
    best = np.maximum(reduced.max(axis=1, initial=0), 0)
    return int(best.sum()) + int(net.slots @ b) + int(net.split_cap[split] @ c[split])
