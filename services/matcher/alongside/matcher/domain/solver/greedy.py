"""A feasible starting assignment for the GAP engine.

Two passes over candidate arcs: first by Lagrangian reduced gain (which
prices contested peers, so popular peers go to those who gain most from
them), then, for whoever is still unmatched, by plain gain into whatever
room is left. Every limit is checked before each assignment, so the result
is always feasible; CP-SAT starts from it (as a hint) and improves it.
"""

from __future__ import annotations

import numpy as np

from alongside.matcher.domain.solver.arcs import Arcs, FloatArray, IntArray, Limits


def greedy(arcs: Arcs, reduced: FloatArray, limits: Limits) -> IntArray:
    """Feasible assignment (peer per row, -1 unmatched) from two greedy passes."""
    n = limits.category.size
    state = _Room(limits)
    assignment = np.full(n, -1, dtype=np.int64)
    first = np.flatnonzero(reduced > 0)
    _fill(arcs, first[np.argsort(-reduced[first], kind="stable")], state, assignment)
    _fill(arcs, np.argsort(-arcs.gain, kind="stable"), state, assignment)
    return assignment


def greedy_in_order(arcs: Arcs, orders: list[IntArray], limits: Limits) -> IntArray:
    """Feasible assignment taking the arcs of each order in turn, wherever they still fit."""
    state = _Room(limits)
    assignment = np.full(limits.category.size, -1, dtype=np.int64)
    for order in orders:
        _fill(arcs, order, state, assignment)
    return assignment


class _Room:
    """What each peer has left under each limit."""

    def __init__(self, limits: Limits) -> None:
        self.load = limits.capacity.tolist()
        self.intake = limits.intake.tolist()
        self.category = limits.category_cap.tolist()
        self.is_cat = limits.category.tolist()


def _fill(arcs: Arcs, order: IntArray, room: _Room, assignment: IntArray) -> None:
    rows, cols, loads = arcs.rows[order].tolist(), arcs.cols[order].tolist(), arcs.load[order].tolist()
    taken = (assignment >= 0).tolist()
    for i, j, w in zip(rows, cols, loads, strict=True):
        if taken[i] or room.load[j] < w or room.intake[j] < 1:
            continue
        cat = room.is_cat[i]
        if cat and room.category[j] < 1:
            continue
        taken[i] = True
        assignment[i] = j
        room.load[j] -= w
        room.intake[j] -= 1
        room.category[j] -= cat
