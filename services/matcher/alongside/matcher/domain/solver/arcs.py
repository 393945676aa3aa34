"""Sparse pair arcs and the per-peer limits of a generalised assignment.

The GAP engine works on lists of usable pairs (row-sorted) rather than on
dense matrices, and on three kinds of per-peer limit, all linear in the
assignment: load within capacity, count within the intake cap, category
count within the category cap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from alongside.matcher.domain.solver.gains import Gains
from alongside.matcher.domain.solver.problem import BatchProblem

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]

# A cap no assignment can reach: stands in for "no limit" and keeps arrays integral.
NO_LIMIT = np.iinfo(np.int64).max // 4


@dataclass(frozen=True)
class Arcs:
    """Pair arcs sorted by row: gain (float), integer cost and load of each."""

    rows: IntArray
    cols: IntArray
    gain: FloatArray
    cost: IntArray
    load: IntArray

    @property
    def size(self) -> int:
        return int(self.rows.size)

    def take(self, index: IntArray | NDArray[np.bool_]) -> Arcs:
        return Arcs(self.rows[index], self.cols[index], self.gain[index], self.cost[index], self.load[index])


@dataclass(frozen=True)
class Limits:
    """Per-peer capacity (load units), intake cap (count) and category cap, plus the category mask."""

    capacity: IntArray
    intake: IntArray
    category_cap: IntArray
    category: NDArray[np.bool_]


def arcs_from_mask(gains: Gains, mask: NDArray[np.bool_]) -> Arcs:
    """The arcs where ``mask`` holds, in row-major (row-sorted) order."""
    rows, cols = np.nonzero(mask)
    rows, cols = rows.astype(np.int64), cols.astype(np.int64)
    return Arcs(rows, cols, gains.gain[rows, cols], gains.pair_cost(rows, cols), gains.pair_load(rows, cols))


def limits_of(problem: BatchProblem) -> Limits:
    m, side = problem.m, problem.side
    intake = side.intake_cap if side.intake_cap is not None else np.full(m, NO_LIMIT)
    if side.category is not None and side.category_cap is not None:
        category, cap = side.category.astype(np.bool_), side.category_cap
    else:
        category, cap = np.zeros(problem.n, dtype=np.bool_), np.full(m, NO_LIMIT)
    return Limits(problem.capacity.astype(np.int64), intake.astype(np.int64), cap.astype(np.int64), category)
