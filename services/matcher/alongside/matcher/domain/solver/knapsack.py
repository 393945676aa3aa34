"""Exact 0-1 knapsacks, one per peer, solved together by dynamic programming.

Capacities are small integers (acuity units), so the table over capacities
0..C is cheap; the peers run side by side as rows of one array and the loop
is over item slots only. ``reduce_items`` keeps, per peer and item weight
``w``, the ``capacity // w`` most profitable items: any optimal packing can
swap a chosen item for a better unchosen one of the same weight, so the
others are never needed (exact, and it bounds the item slots by
``sum_w capacity // w``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Packed:
    """Items laid out per peer: slot ``k`` of peer ``j`` is item ``index[j, k]`` (-1 for padding)."""

    profit: FloatArray  # (m, K)
    weight: IntArray  # (m, K)
    index: IntArray  # (m, K)


@dataclass(frozen=True)
class Knapsacks:
    """``table[j, c]``: best profit of peer ``j`` within weight ``c``; ``taken``: item indices packed at capacity."""

    value: FloatArray  # (m,), table at each peer's capacity
    table: FloatArray  # (m, C + 1)
    taken: IntArray


def reduce_items(peer: IntArray, weight: IntArray, profit: FloatArray, capacity: IntArray) -> IntArray:
    """Indices of the items worth keeping (positive profit, within the per-weight count; see the module)."""
    keep = np.flatnonzero((profit > 0) & (weight <= capacity[peer]))
    if keep.size == 0:
        return keep
    order = keep[np.lexsort((-profit[keep], weight[keep], peer[keep]))]
    p, w = peer[order], weight[order]
    new_group = np.r_[True, (p[1:] != p[:-1]) | (w[1:] != w[:-1])]
    starts = np.flatnonzero(new_group)
    rank = np.arange(order.size) - np.repeat(starts, np.diff(np.r_[starts, order.size]))
    return order[rank < capacity[p] // w]


def pack(peer: IntArray, weight: IntArray, profit: FloatArray, items: IntArray, m: int) -> Packed:
    """Lay ``items`` out as rows per peer, padded with weightless-profitless slots that never fit."""
    order = items[np.argsort(peer[items], kind="stable")]
    p = peer[order]
    counts = np.bincount(p, minlength=m)
    slots = int(counts.max(initial=0))
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    slot = np.arange(order.size) - starts[p]
    index = np.full((m, slots), -1, dtype=np.int64)
    index[p, slot] = order
    filled = index >= 0
    return Packed(
        np.where(filled, profit[np.maximum(index, 0)], 0.0),
        np.where(filled, weight[np.maximum(index, 0)], np.iinfo(np.int32).max).astype(np.int64),
        index,
    )


def solve_knapsacks(packed: Packed, capacity: IntArray) -> Knapsacks:
    """Every peer's knapsack, exactly, with the items packed at its capacity."""
    m, slots = packed.profit.shape
    top = int(capacity.max(initial=0))
    span = np.arange(top + 1)
    table = np.zeros((m, top + 1))
    better = np.zeros((slots, m, top + 1), dtype=np.bool_)
    rows = np.arange(m)[:, None]
    for k in range(slots):
        source = span[None, :] - packed.weight[:, k, None]
        fits = source >= 0
        candidate = np.where(fits, table[rows, np.maximum(source, 0)] + packed.profit[:, k, None], -np.inf)
        better[k] = candidate > table
        np.maximum(table, candidate, out=table)
    at = np.minimum(capacity, top).astype(np.int64)
    value = table[np.arange(m), at]
    taken: list[IntArray] = []
    left = at.copy()
    for k in range(slots - 1, -1, -1):
        took = better[k, np.arange(m), left]
        if took.any():
            taken.append(packed.index[took, k])
            left -= np.where(took, packed.weight[:, k], 0)
    chosen = np.concatenate(taken) if taken else np.zeros(0, dtype=np.int64)
    return Knapsacks(value, table, chosen)
