"""Fill the room left by an assignment, in vectorised rounds (no Python loop over arcs).

Each round, every unmatched participant proposes to its best arc (by
``score``) among the peers that still have room for it under every limit;
each peer accepts its proposals best first while they fit (load, intake
count, category count); the rest propose again next round. Stops when a
round accepts nobody. The result is feasible whenever the start is.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from alongside.matcher.domain.solver.arcs import Arcs, FloatArray, IntArray, Limits

MAX_ROUNDS = 50


def fill(arcs: Arcs, score: FloatArray, limits: Limits, assignment: IntArray) -> IntArray:
    """``assignment`` (kept as it is) plus whoever fits where there is room; ``arcs`` row-sorted."""
    out = assignment.copy()
    m = limits.capacity.size
    cat = limits.category
    matched = out >= 0
    rows = np.flatnonzero(matched)
    load_used = np.zeros(m, dtype=np.int64)
    if rows.size:
        picked = np.flatnonzero(out[arcs.rows] == arcs.cols)
        load_used = np.bincount(arcs.cols[picked], weights=arcs.load[picked], minlength=m).astype(np.int64)
    room = limits.capacity - load_used
    intake = limits.intake - np.bincount(out[rows], minlength=m)
    cat_room = limits.category_cap - np.bincount(out[rows[cat[rows]]], minlength=m)
    for _ in range(MAX_ROUNDS):
        open_ = ~matched[arcs.rows] & (room[arcs.cols] >= arcs.load) & (intake[arcs.cols] >= 1)
        open_ &= ~cat[arcs.rows] | (cat_room[arcs.cols] >= 1)
        chosen = _best_per_row(arcs.rows, np.where(open_, score, -np.inf))
        if chosen.size == 0:
            break
        accepted = _accept(arcs, score, chosen, room, intake, cat_room, cat)
        if accepted.size == 0:
            break
        i, j, w = arcs.rows[accepted], arcs.cols[accepted], arcs.load[accepted]
        out[i], matched[i] = j, True
        np.subtract.at(room, j, w)
        np.subtract.at(intake, j, 1)
        np.subtract.at(cat_room, j[cat[i]], 1)
    return out


def _best_per_row(rows: IntArray, values: FloatArray) -> IntArray:
    """Per row (rows sorted), the index of its best finite value."""
    if rows.size == 0:
        return rows
    starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    top = np.maximum.reduceat(values, starts)
    ok = np.isfinite(top)
    is_top = values == np.repeat(top, np.diff(np.r_[starts, rows.size]))
    first = np.flatnonzero(is_top)
    first = first[np.r_[True, rows[first][1:] != rows[first][:-1]]]
    return first[ok[np.searchsorted(rows[starts], rows[first])]]


def _accept(
    arcs: Arcs,
    score: FloatArray,
    chosen: IntArray,
    room: IntArray,
    intake: IntArray,
    cat_room: IntArray,
    cat: NDArray[np.bool_],
) -> IntArray:
    """Of the proposals ``chosen``, those each peer takes best first within every limit."""
    order = chosen[np.lexsort((-score[chosen], arcs.cols[chosen]))]
    cols = arcs.cols[order]
    starts = np.flatnonzero(np.r_[True, cols[1:] != cols[:-1]])
    lengths = np.diff(np.r_[starts, cols.size])
    base = np.repeat(starts, lengths)
    load_sum = np.cumsum(arcs.load[order])
    load_before = np.repeat(np.r_[0, load_sum][starts], lengths)
    count = np.arange(order.size) - base + 1
    is_cat = cat[arcs.rows[order]].astype(np.int64)
    cat_sum = np.cumsum(is_cat)
    cat_before = np.repeat(np.r_[0, cat_sum][starts], lengths)
    # A prefix per peer: the first proposal that does not fit ends that peer's acceptances this round.
    fits = (load_sum - load_before <= room[cols]) & (count <= intake[cols]) & (cat_sum - cat_before <= cat_room[cols])
    bad_before = np.cumsum(~fits) - np.repeat(np.r_[0, np.cumsum(~fits)][starts], lengths)
    accepted: IntArray = order[fits & (bad_before == 0)]
    return accepted
