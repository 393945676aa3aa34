"""Node potentials for a flow solved on a subset of the pair arcs.

A feasible flow is a min-cost flow iff there are node potentials ``p`` with
non-negative reduced cost ``c(u, v) + p(u) - p(v)`` on every arc of its
residual graph. A pair arc that was pruned away carries no flow, so in the
*full* network it adds exactly one residual arc, ``i -> j`` with cost
``-cost[i, j]``. ``prices.py`` turns potentials that are valid for the
*pruned* network into slot prices, and those into an upper bound over every
arc: when it meets the flow's gain, no arc outside the subset could improve
it, and the arcs that keep it higher are the ones to add.

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

import numpy as np

from alongside.matcher.domain.solver.network import FlowSolution, IntArray, Network

_INF = np.iinfo(np.int64).max // 4


@dataclass(frozen=True)
class Potentials:
    """Node potentials: participants, then right nodes (peers, split nodes, sink) of one network."""

    participant: IntArray
    right: IntArray


def potentials(net: Network, sol: FlowSolution) -> Potentials:
    """Valid potentials for the residual graph of ``net`` under ``sol``: minus the distance to the sink.

    Label-correcting rather than plain Bellman-Ford: a round relaxes only the
    arcs into nodes whose distance fell in the round before, which after the
    first few rounds is a small part of the network. Same fixed point: the
    exact distances.
    """
    right_count = net.m + net.num_splits + 1
    sink = right_count - 1
    used = sol.arc_flow > 0
    heads = net.right_head(net.rows, net.cols)
    free = np.flatnonzero(~used)
    into = _ByKey(heads[free], right_count)  # residual i -> h of each free arc, by h
    free_rows, free_heads, free_cost = net.rows[free][into.order], into.keys, net.cost[free][into.order]
    back = np.flatnonzero(used)
    back_head = np.zeros(net.n, dtype=np.int64)
    back_cost = np.zeros(net.n, dtype=np.int64)
    back_head[net.rows[back]], back_cost[net.rows[back]] = heads[back], net.cost[back]
    matched = sol.assignment >= 0
    src, dst = _right_arcs(net, sol, sink)
    dist_p = np.where(matched, 0, _INF)  # a matched participant may drop out at no cost
    dist_r = np.full(right_count, _INF, dtype=np.int64)
    fell_p = np.flatnonzero(matched)
    for _ in range(net.n + right_count + 1):
        new_r = dist_r.copy()
        new_r[sink] = 0
        np.minimum.at(new_r, back_head[fell_p], dist_p[fell_p] + back_cost[fell_p])  # residual h -> i
        _settle(new_r, src, dst)
        fell_r = np.flatnonzero(new_r < dist_r)
        dist_r = new_r
        arcs = into.members(fell_r)
        new_p = dist_p.copy()
        np.minimum.at(new_p, free_rows[arcs], dist_r[free_heads[arcs]] - free_cost[arcs])
        fell_p = np.flatnonzero(new_p < dist_p)
        dist_p = new_p
        fell_p = fell_p[matched[fell_p]]  # only a matched participant has an arc back from a peer
        if fell_p.size == 0:
            return _finite(-dist_p, -dist_r, int(net.cost.max(initial=0)))
    raise RuntimeError("residual graph has a negative cycle; the flow is not optimal")


def _settle(dist: IntArray, src: IntArray, dst: IntArray) -> None:
    """Relax the zero-cost arcs ``src -> dst`` among right nodes until nothing changes."""
    for _ in range(dist.size + 1):
        before = dist[src]
        np.minimum.at(dist, src, dist[dst])
        if np.array_equal(before, dist[src]):
            return
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


class _ByKey:
    """Indices grouped by a small integer key (a stable radix sort), and the members of some keys."""

    def __init__(self, keys: IntArray, size: int) -> None:
        sortable = keys.astype(np.uint16) if size <= 2**16 else keys
        self.order = np.argsort(sortable, kind="stable")
        self.keys = keys[self.order]
        counts = np.bincount(keys, minlength=size)
        self.counts = counts
        self.starts = np.cumsum(counts) - counts

    def members(self, keys: IntArray) -> IntArray:
        """Positions (in sorted order) of every index whose key is in ``keys``."""
        lengths = self.counts[keys]
        total = int(lengths.sum())
        offsets = np.cumsum(lengths) - lengths
        return np.repeat(self.starts[keys] - offsets, lengths) + np.arange(total)
