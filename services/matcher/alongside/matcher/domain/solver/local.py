"""Local search on a feasible assignment: shift and eject moves, proposed in vectorised rounds.

Each round, from the peers' room left under every limit:

- **shift**: a participant (matched or not) moves to a peer with room for
  it, if that gains more than where it is;
- **eject**: a participant takes a peer without room by evicting one of its
  participants, who moves to its own best peer with room, or is left
  unmatched. Per peer and per unit of room missing, the evictee is the one
  whose move loses least (``_evictees``).

Every arc proposes its best move of each kind in one numpy pass; the
proposals are then applied best first, each checked against the live room
and positions (a Python loop over at most one proposal per participant), so
the result is feasible whenever the start is and never gains less. Rounds
stop when none applies, at ``MAX_ROUNDS`` or at the deadline. Everything is
in integer gain units (``Arcs.cost``); the start's pairs must be in ``arcs``.
"""

from __future__ import annotations

import time

import numpy as np
from numpy.typing import NDArray

from alongside.matcher.domain.solver.arcs import Arcs, IntArray, Limits

MAX_ROUNDS = 30
MAX_NEED = 8  # eject moves only where the room missing is at most this many load units


def improve(arcs: Arcs, limits: Limits, assignment: IntArray, deadline: float, rounds: int = MAX_ROUNDS) -> IntArray:
    """``assignment`` improved by shift and eject moves over ``arcs`` until no move gains, after ``rounds``
    rounds, or at ``deadline``."""
    out = assignment.copy()
    if arcs.size == 0 or time.perf_counter() >= deadline:
        return out
    index = _Index(arcs, limits.capacity.size)
    for _ in range(rounds):
        if time.perf_counter() >= deadline or not _round(arcs, limits, out, index):
            break
    return out


class _Index:
    """Finds the arc of a pair: its keys ``row * m + col``, sorted (``order`` maps back to arc indices)."""

    def __init__(self, arcs: Arcs, m: int) -> None:
        self.m = m
        keys = arcs.rows * m + arcs.cols
        self.order: IntArray | None = None
        if keys.size > 1 and not bool((keys[1:] > keys[:-1]).all()):
            self.order = np.argsort(keys, kind="stable")
            keys = keys[self.order]
        self.keys = keys

    def find(self, rows: IntArray, cols: IntArray) -> tuple[IntArray, NDArray[np.bool_]]:
        """Arc index of each pair (meaningless where not found) and whether found."""
        wanted = rows * self.m + cols
        sorted_ = np.argsort(wanted)  # sorted needles search several times faster
        pos = np.empty(wanted.size, dtype=np.int64)
        pos[sorted_] = np.searchsorted(self.keys, wanted[sorted_])
        np.minimum(pos, self.keys.size - 1, out=pos)
        found = self.keys[pos] == wanted
        return (pos if self.order is None else self.order[pos]), found


class _State:
    """Where each participant is (arc index) and what each peer has left, kept live while moves apply."""

    def __init__(self, arcs: Arcs, limits: Limits, assignment: IntArray) -> None:
        n, m = assignment.size, limits.capacity.size
        picked = np.flatnonzero(assignment[arcs.rows] == arcs.cols)
        self.at = np.full(n, -1, dtype=np.int64)  # arc index of each participant's pair, -1 unmatched
        self.at[arcs.rows[picked]] = picked
        self.room = limits.capacity - np.bincount(arcs.cols[picked], weights=arcs.load[picked], minlength=m).astype(
            np.int64
        )
        cols = arcs.cols[picked]
        self.intake = limits.intake - np.bincount(cols, minlength=m)
        self.cat_room = limits.category_cap - np.bincount(cols[limits.category[arcs.rows[picked]]], minlength=m)
        self.cost = np.where(self.at >= 0, arcs.cost[np.maximum(self.at, 0)], 0)


def _round(arcs: Arcs, limits: Limits, assignment: IntArray, index: _Index) -> bool:
    """One round of proposals, applied; whether any applied."""
    state = _State(arcs, limits, assignment)
    cat = limits.category
    rows, cols, load = arcs.rows, arcs.cols, arcs.load
    elsewhere = assignment[rows] != cols
    fits = (state.room[cols] >= load) & (state.intake[cols] >= 1) & (~cat[rows] | (state.cat_room[cols] >= 1))
    open_ = elsewhere & fits
    # Each participant's best move into room: its shift, and where it would go if evicted.
    alt_arc = _best_per_row(rows, np.where(open_, arcs.cost, -1), assignment.size)
    alt_cost = np.where(alt_arc >= 0, arcs.cost[np.maximum(alt_arc, 0)], 0)
    shift_gain = alt_cost - state.cost
    moves: list[tuple[int, int, int, int]] = []  # (gain, arc, evictee, evictee's arc or -1)
    for i in np.flatnonzero((alt_arc >= 0) & (shift_gain > 0)).tolist():
        moves.append((int(shift_gain[i]), int(alt_arc[i]), -1, -1))
    loss = np.where(state.at >= 0, state.cost - np.maximum(alt_cost, 0), 0)
    need = load - state.room[cols]
    eject = elsewhere & (need >= 1) & (need <= MAX_NEED) & (state.intake[cols] >= 0)
    if eject.any():
        table = _evictees(arcs, limits.capacity.size, state, loss)
        who = np.full(arcs.size, -1, dtype=np.int64)
        idx = np.flatnonzero(eject)
        who[idx] = table[cols[idx], need[idx] - 1]
        ok = who >= 0
        dest = np.where(ok, alt_arc[np.maximum(who, 0)], -1)
        lost = loss[np.maximum(who, 0)]
        _swaps(arcs, limits, state, assignment, index, np.flatnonzero(ok), who, dest, lost)
        gain = np.where(ok, arcs.cost - state.cost[rows] - lost, 0)
        best = _best_per_row(rows, np.where(ok & (gain > 0), gain, -1), assignment.size)
        for i in np.flatnonzero(best >= 0).tolist():
            a = int(best[i])
            moves.append((int(gain[a]), a, int(who[a]), int(dest[a])))
    moves.sort(reverse=True)
    applied = False
    for _, a, k, k_arc in moves:
        applied |= _apply(arcs, limits, state, assignment, a, k, k_arc)
    return applied


def _swaps(
    arcs: Arcs,
    limits: Limits,
    state: _State,
    assignment: IntArray,
    index: _Index,
    idx: IntArray,
    who: IntArray,
    dest: IntArray,
    lost: IntArray,
) -> None:
    """Where the evictee loses less by taking the mover's old peer (in the room the mover leaves), a swap:
    ``dest`` and ``lost`` updated in place at ``idx``."""
    i, k = arcs.rows[idx], who[idx]
    old = assignment[i]
    moving = (old >= 0) & (arcs.cost[idx] > state.cost[i])  # a swap gains only if the mover gains by it
    idx, i, k, old = idx[moving], i[moving], k[moving], old[moving]
    if idx.size == 0:
        return
    back, found = index.find(k, old)
    held = state.at[i]
    fits = (
        found
        & (state.room[old] + arcs.load[held] >= arcs.load[back])
        & (~limits.category[k] | (state.cat_room[old] + limits.category[i] >= 1))
    )
    swap_loss = state.cost[k] - arcs.cost[back]
    better = fits & (swap_loss < lost[idx])
    dest[idx[better]] = back[better]
    lost[idx[better]] = swap_loss[better]


def _evictees(arcs: Arcs, m: int, state: _State, loss: IntArray) -> IntArray:
    """``(m, MAX_NEED)``: per peer and room missing ``t``, its participant with load ``>= t`` losing least, or -1."""
    table = np.full((m, MAX_NEED), -1, dtype=np.int64)
    matched = np.flatnonzero(state.at >= 0)
    held_load = arcs.load[state.at[matched]]
    held_col = arcs.cols[state.at[matched]]
    for t in range(1, MAX_NEED + 1):
        sel = held_load >= t
        if not sel.any():
            break
        r, c = matched[sel], held_col[sel]
        order = np.lexsort((loss[r], c))
        first = order[np.r_[True, c[order][1:] != c[order][:-1]]]
        table[c[first], t - 1] = r[first]
    return table


def _apply(arcs: Arcs, limits: Limits, state: _State, assignment: IntArray, a: int, k: int, k_arc: int) -> bool:
    """Apply the move ``a`` (evicting ``k`` to ``k_arc``) if it still fits and gains; whether it did."""
    i, j, w = int(arcs.rows[a]), int(arcs.cols[a]), int(arcs.load[a])
    cat_i = bool(limits.category[i])
    gain = int(arcs.cost[a]) - int(state.cost[i])
    room, intake, cat_room = int(state.room[j]), int(state.intake[j]), int(state.cat_room[j])
    if assignment[i] == j:
        return False
    if k >= 0:
        if assignment[k] != j:
            return False
        held = int(state.at[k])
        room += int(arcs.load[held])
        intake += 1
        cat_room += int(limits.category[k])
        gain -= int(state.cost[k])
        if k_arc >= 0:
            jk = int(arcs.cols[k_arc])
            if jk == j or not _fits(state, limits, jk, int(arcs.load[k_arc]), k, _freed(arcs, limits, state, i, jk)):
                k_arc = -1  # its room was taken meanwhile: left unmatched
            else:
                gain += int(arcs.cost[k_arc])
    if gain <= 0 or room < w or intake < 1 or (cat_i and cat_room < 1):
        return False
    if k >= 0:
        _leave(arcs, limits, state, assignment, k)
        if k_arc >= 0:
            _enter(arcs, limits, state, assignment, k_arc)
    _leave(arcs, limits, state, assignment, i)
    _enter(arcs, limits, state, assignment, a)
    return True


def _freed(arcs: Arcs, limits: Limits, state: _State, i: int, j: int) -> tuple[int, int, int]:
    """What ``i`` leaving frees at peer ``j``: load, intake and category room (0 unless ``i`` is at ``j``)."""
    held = int(state.at[i])
    if held < 0 or int(arcs.cols[held]) != j:
        return 0, 0, 0
    return int(arcs.load[held]), 1, int(limits.category[i])


def _fits(state: _State, limits: Limits, j: int, w: int, i: int, freed: tuple[int, int, int]) -> bool:
    """Whether ``i`` (load ``w``) fits at ``j`` with ``freed`` added to its room."""
    load, count, cat = freed
    return bool(
        state.room[j] + load >= w
        and state.intake[j] + count >= 1
        and (not limits.category[i] or state.cat_room[j] + cat >= 1)
    )


def _leave(arcs: Arcs, limits: Limits, state: _State, assignment: IntArray, i: int) -> None:
    held = int(state.at[i])
    if held < 0:
        return
    j = int(arcs.cols[held])
    state.room[j] += arcs.load[held]
    state.intake[j] += 1
    state.cat_room[j] += int(limits.category[i])
    state.at[i], state.cost[i], assignment[i] = -1, 0, -1


def _enter(arcs: Arcs, limits: Limits, state: _State, assignment: IntArray, a: int) -> None:
    i, j = int(arcs.rows[a]), int(arcs.cols[a])
    state.room[j] -= arcs.load[a]
    state.intake[j] -= 1
    state.cat_room[j] -= int(limits.category[i])
    state.at[i], state.cost[i], assignment[i] = a, arcs.cost[a], j


def _best_per_row(rows: IntArray, values: NDArray[np.int64], n: int) -> IntArray:
    """Per row, the arc index of its largest non-negative value, or -1 (any row order)."""
    best = np.full(n, -1, dtype=np.int64)
    keep = np.flatnonzero(values >= 0)
    if keep.size == 0:
        return best
    order = keep[np.lexsort((-values[keep], rows[keep]))]
    first = order[np.r_[True, rows[order][1:] != rows[order][:-1]]]
    best[rows[first]] = first
    return best
