"""Large-neighbourhood search: CP-SAT solves windows of peers exactly, and what gains is kept.

A window is a set of peers that compete for the same participants (grown
from a random peer by ``_Affinity``: peers sharing many participants'
best arcs). Everything else stays fixed, and the window's sub-problem is a
small generalised assignment that CP-SAT solves exactly in a fraction of a
second:

- the participants of the window's peers may move between them, leave for
  a peer outside the window that has room for them (within that room), or
  be left unmatched;
- unmatched participants may take a window peer;
- participants matched outside the window may move into it when that gains
  more than where they are (their old peer's room is left unused).

Participants from outside bring only their ``IN_PER_ROW`` best peers in the
window, and the window's own participants their ``OUT_PER_ROW`` best peers
with room outside it: smaller models, the same gain per window for a
quarter less CPU.

The window's peers offer their whole capacity (every participant they hold
is in the sub-problem); the peers outside offer only their current room,
so whatever the sub-problem's solution, the whole assignment stays
feasible. CP-SAT starts from the current assignment as a hint, so it never
returns a worse sub-solution; a solution is applied only when it gains
more. The window grows while CP-SAT proves its windows optimal within the
slice and shrinks when it does not. Everything is in integer gain units
(``Arcs.cost``); the start's pairs must be in ``arcs``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from alongside.matcher.domain.solver import local, tighten
from alongside.matcher.domain.solver.arcs import Arcs, IntArray, Limits
from alongside.matcher.domain.solver.cpsat import CpResult, OnSolution, build_model, run
from alongside.matcher.domain.solver.gains import Gains
from alongside.matcher.domain.solver.tighten import Tightened, refix

WINDOW_PEERS = 40  # peers in the first window; adapts between MIN_WINDOW and MAX_WINDOW
MIN_WINDOW = 8
MAX_WINDOW = 400
SLICE_S = 0.5  # CP-SAT's work on one window, in its deterministic seconds (about seconds on a free core)
BUSY = 4  # and at most this many times as long by the clock, however busy the machine
PARALLEL = 2  # windows solved at once (the machine has two cores)
WINDOW_WORKERS = 1  # CP-SAT workers per window: on windows this small one proves as fast as two
MIN_SLICE_S = 0.1
END_S = 0.5  # windows stop this long before the deadline: a window's model and its polish run past a slice
TOP_PER_ROW = 8  # each participant's best arcs by gain, for the peers' affinity
SWEEP_EVERY_S = 4.0  # local search on every arc, this often while windows gain,
SWEEP_ROUNDS = 2  # for at most this many rounds (a round over millions of arcs takes a quarter second)
POLISH_ROUNDS = 3  # local search rounds around what a window changed
OUT_PER_ROW = 4  # per participant of the window, its best peers outside the window that have room for it
IN_PER_ROW = 4  # per participant from outside the window (unmatched or matched elsewhere), its best peers in it

WINDOWS_ABOVE = 10_000  # kept arcs; on fewer, CP-SAT proves the model faster on all of them
LOCAL_SHARE = 0.3  # at most, of the time given, for local search to its end before the first window

# Told the gain of each better assignment found.
OnBetter = Callable[[int], None]


def wanted(kept: Tightened) -> bool:
    """Whether windows have the final CP-SAT run's time too: when the kept arcs are too many for
    CP-SAT's bound to count (``Tightened.model`` would cut them), so that CP-SAT only looks for a better
    incumbent, which windows find faster."""
    return not kept.closed and kept.arcs.size > tighten.MAX_CP_ARCS


def improve_kept(
    kept: Tightened, gains: Gains, limits: Limits, until: float, seed: int, on_solution: OnSolution
) -> Tightened:
    """``kept`` with its incumbent improved by local search to its end, then windows until ``until``; refixed."""
    start = time.perf_counter()
    found = local.improve(kept.arcs, limits, kept.assignment, start + LOCAL_SHARE * (until - start))
    count = 0

    def on_better(gain: int) -> None:
        nonlocal count
        count += 1
        on_solution(count, float(gain), 0.0)

    found = search(kept.arcs, limits, found, until, seed, on_better)
    return refix(kept, found, gains) if _int_gain(gains, found) > _int_gain(gains, kept.assignment) else kept


def _int_gain(gains: Gains, assignment: IntArray) -> int:
    rows = np.flatnonzero(assignment >= 0)
    return int(gains.pair_cost(rows, assignment[rows]).sum())


def search(
    arcs: Arcs,
    limits: Limits,
    assignment: IntArray,
    deadline: float,
    seed: int,
    on_better: OnBetter | None = None,
    windows: int | None = None,
) -> IntArray:
    """``assignment`` improved by exact solves of peer windows until ``deadline`` (perf_counter), or after
    ``windows`` rounds of them."""
    out = assignment.copy()
    m = limits.capacity.size
    if arcs.size == 0 or time.perf_counter() + END_S + MIN_SLICE_S >= deadline:
        return out
    rng = np.random.default_rng(seed)
    index = _Index(arcs, out.size, m)
    affinity = _Affinity(arcs, out.size, m)
    size = min(WINDOW_PEERS, m)
    gain = _gain(arcs, index, out)
    swept, moved = time.perf_counter(), False
    with ThreadPoolExecutor(PARALLEL) as pool:
        while True:
            left = deadline - END_S - time.perf_counter()
            if left < MIN_SLICE_S:
                break
            if moved and time.perf_counter() - swept >= SWEEP_EVERY_S:
                # Moves that span windows (room one window freed, used from outside it): local search on every arc.
                out = local.improve(arcs, limits, out, deadline - END_S, SWEEP_ROUNDS)
                swept, moved, before = time.perf_counter(), False, gain
                gain = _gain(arcs, index, out)
                if gain > before and on_better is not None:
                    on_better(gain)
                continue
            if windows is not None:
                if windows <= 0:
                    break
                windows -= 1
            subs = [
                sub
                for window in affinity.windows(m, size, PARALLEL, rng)
                if (sub := _sub_problem(arcs, limits, index, out, window)) is not None
            ]
            solves = [pool.submit(_solve, sub, left, int(rng.integers(1 << 30))) for sub in subs]
            proved = 0
            for sub, solve in zip(subs, solves, strict=True):
                cp = solve.result()
                proved += cp.status == "OPTIMAL"
                if cp.assignment is None:
                    continue
                # Windows are disjoint, but a participant may be in both sub-problems, or both may send
                # participants to one peer outside them: the second applies only if the whole stays feasible.
                found = sub.apply(out, cp.assignment)
                found_gain = _gain(arcs, index, found)
                if found_gain > gain and _feasible(arcs, limits, index, found):
                    found = _polish(arcs, limits, index, out, found, deadline - END_S)
                    out, gain, moved = found, _gain(arcs, index, found), True
                    if on_better is not None:
                        on_better(gain)
            step = max(1, size // 4)
            size = min(MAX_WINDOW, m, size + step) if proved == len(subs) else max(MIN_WINDOW, size - step)
    return out


def _solve(sub: _Sub, seconds: float, seed: int) -> CpResult:
    model = build_model(sub.arcs, sub.limits)
    limit = min(seconds, SLICE_S * BUSY)
    # Without presolve, windows of 20-40 peers proved optimal in 1/1.6 to 1/4.6 of the CPU (docs/benchmarks.md).
    return run(model, sub.arcs, sub.hint, limit, seed, workers=WINDOW_WORKERS, work=SLICE_S, presolve=False)


def _feasible(arcs: Arcs, limits: Limits, index: _Index, assignment: IntArray) -> bool:
    """Every pair an arc, and every peer within its limits."""
    at = _held(arcs, index, assignment)
    if bool(((assignment >= 0) & (at < 0)).any()):
        return False
    room, intake, cat_room = _room(arcs, limits, assignment, index)
    return bool((room >= 0).all() and (intake >= 0).all() and (cat_room >= 0).all())


class _Index:
    """The arcs grouped by peer and by participant."""

    def __init__(self, arcs: Arcs, n: int, m: int) -> None:
        narrow = arcs.cols.astype(np.int16) if m <= np.iinfo(np.int16).max else arcs.cols
        self.by_col = np.argsort(narrow, kind="stable")  # a radix sort on 16-bit keys
        self.col_start = np.r_[0, np.cumsum(np.bincount(arcs.cols, minlength=m))]
        self.row_start = np.r_[0, np.cumsum(np.bincount(arcs.rows, minlength=n))]  # arcs are row-sorted
        self.n, self.m = n, m
        keys = arcs.rows * m + arcs.cols
        self.key_order: IntArray | None = None
        if keys.size > 1 and not bool((keys[1:] > keys[:-1]).all()):
            self.key_order = np.argsort(keys, kind="stable")
            keys = keys[self.key_order]
        self.keys = keys

    def find(self, assignment: IntArray) -> IntArray:
        """Arc index of each participant's pair in ``assignment`` (-1 unmatched or not an arc)."""
        rows = np.flatnonzero(assignment >= 0)
        wanted = rows * self.m + assignment[rows]
        pos = np.minimum(np.searchsorted(self.keys, wanted), max(self.keys.size - 1, 0))
        at = np.full(assignment.size, -1, dtype=np.int64)
        found = self.keys[pos] == wanted
        at[rows[found]] = pos[found] if self.key_order is None else self.key_order[pos[found]]
        return at

    def of_cols(self, cols: IntArray) -> IntArray:
        return _ranges(self.by_col, self.col_start, cols)

    def of_rows(self, rows: IntArray) -> IntArray:
        return _ranges(None, self.row_start, rows)


def _ranges(order: IntArray | None, start: IntArray, keys: IntArray) -> IntArray:
    """The concatenated index ranges ``start[k]:start[k + 1]`` of ``keys`` (through ``order`` if given)."""
    lo, hi = start[keys], start[keys + 1]
    lengths = hi - lo
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(lo - np.r_[0, np.cumsum(lengths)[:-1]], lengths)
    flat: IntArray = np.arange(total, dtype=np.int64) + offsets
    return flat if order is None else order[flat]


class _Affinity:
    """Peers' affinity: how many participants have both among their ``TOP_PER_ROW`` best arcs (kept as
    each participant's best peers and each peer's participants, not as a peers x peers table)."""

    def __init__(self, arcs: Arcs, n: int, m: int) -> None:
        # Each participant's best peers, from a dense table (a partition per row, no sort of every arc).
        width = min(TOP_PER_ROW, m)
        dense = np.full((n, m), -1, dtype=np.int32)  # integer gains fit 32 bits (gains.py)
        dense[arcs.rows, arcs.cols] = arcs.cost
        self.top = np.argpartition(dense, m - width, axis=1)[:, m - width :]
        self.real = np.take_along_axis(dense, self.top, axis=1) >= 0
        entries = np.flatnonzero(self.real.ravel())
        peers = self.top.ravel()[entries]
        self.rows_of = (entries // width)[np.argsort(peers, kind="stable")]  # each peer's participants
        self.start = np.r_[0, np.cumsum(np.bincount(peers, minlength=m))]
        self.m = m

    def _row(self, peer: int) -> NDArray[np.float64]:
        """Affinity of ``peer`` with every peer (itself included, which callers have taken)."""
        rows = self.rows_of[self.start[peer] : self.start[peer + 1]]
        return np.bincount(self.top[rows][self.real[rows]], minlength=self.m).astype(np.float64)

    def windows(self, m: int, size: int, count: int, rng: np.random.Generator) -> list[IntArray]:
        """Up to ``count`` disjoint windows of up to ``size`` peers, each grown from a random peer not yet taken."""
        taken = np.zeros(m, dtype=np.bool_)
        out = []
        for _ in range(count):
            free = np.flatnonzero(~taken)
            if free.size == 0:
                break
            out.append(self._window(int(free[rng.integers(free.size)]), size, taken, rng))
        return out

    def _window(self, seed_peer: int, size: int, taken: NDArray[np.bool_], rng: np.random.Generator) -> IntArray:
        """Up to ``size`` peers not ``taken``, grown from ``seed_peer``, each next the one closest to those
        taken (with noise); marks them taken."""
        m = self.m
        taken[seed_peer] = True
        score = self._row(seed_peer)
        chosen = [seed_peer]
        noise = rng.uniform(0.7, 1.3, size=m)
        for _ in range(min(size, m) - 1):
            ranked = np.where(taken, -1.0, score * noise + 1e-6 * noise)
            pick = int(np.argmax(ranked))
            if ranked[pick] < 0:
                break
            taken[pick] = True
            chosen.append(pick)
            score += self._row(pick)
        return np.asarray(chosen, dtype=np.int64)


@dataclass(frozen=True)
class _Sub:
    """A window's sub-problem: its arcs (rows and columns renumbered), limits and hint, and how to map back."""

    arcs: Arcs
    limits: Limits
    hint: IntArray
    rows: IntArray  # sub-row -> participant
    cols: IntArray  # sub-column -> peer
    stays: NDArray[np.bool_]  # per sub-row: unchosen means staying where it is (else unmatched)

    def apply(self, assignment: IntArray, chosen: IntArray) -> IntArray:
        """``assignment`` with the sub-solution ``chosen`` (sub-column per sub-row, -1 none) put in."""
        out = assignment.copy()
        picked = chosen >= 0
        out[self.rows[picked]] = self.cols[chosen[picked]]
        out[self.rows[~picked & ~self.stays]] = -1
        return out


def _sub_problem(arcs: Arcs, limits: Limits, index: _Index, assignment: IntArray, window: IntArray) -> _Sub | None:
    m = limits.capacity.size
    in_window = np.zeros(m + 1, dtype=np.bool_)  # the last slot stands for "unmatched"
    in_window[window] = True
    where = np.where(assignment >= 0, assignment, m)
    current = _current_cost(arcs, index, assignment)
    into = index.of_cols(window)
    r = arcs.rows[into]
    inside = in_window[where[r]]
    free = where[r] == m
    moving_in = ~inside & ~free & (arcs.cost[into] > current[r])
    into = np.r_[into[inside], _best_few(arcs, into[free | moving_in], IN_PER_ROW)]
    members = np.flatnonzero(in_window[where[: index.n]])
    room, intake, cat_room = _room(arcs, limits, assignment, index)
    out = index.of_rows(members)
    c, rr = arcs.cols[out], arcs.rows[out]
    fits = ~in_window[c] & (room[c] >= arcs.load[out]) & (intake[c] >= 1)
    fits &= ~limits.category[rr] | (cat_room[c] >= 1)
    out = _best_few(arcs, out[fits], OUT_PER_ROW)
    picked = np.r_[into, out]
    if picked.size == 0:
        return None
    picked = picked[np.argsort(arcs.rows[picked], kind="stable")]
    rows, sub_rows = np.unique(arcs.rows[picked], return_inverse=True)
    cols, sub_cols = np.unique(arcs.cols[picked], return_inverse=True)
    stays = ~in_window[where[rows]] & (where[rows] != m)
    cost = arcs.cost[picked] - np.where(stays[sub_rows], current[arcs.rows[picked]], 0)
    sub_arcs = Arcs(sub_rows.astype(np.int64), sub_cols.astype(np.int64), arcs.gain[picked], cost, arcs.load[picked])
    outside = ~in_window[cols]
    cap = np.where(outside, room[cols], limits.capacity[cols])
    sub_intake = np.where(outside, intake[cols], limits.intake[cols])
    sub_cat = np.where(outside, cat_room[cols], limits.category_cap[cols])
    sub_limits = Limits(cap, sub_intake, sub_cat, limits.category[rows])
    hint = np.full(rows.size, -1, dtype=np.int64)
    held = assignment[rows]
    col_of = np.full(m, -1, dtype=np.int64)
    col_of[cols] = np.arange(cols.size)
    inner = in_window[np.where(held >= 0, held, m)]
    hint[inner] = col_of[held[inner]]
    return _Sub(sub_arcs, sub_limits, hint, rows, cols, stays)


def _polish(arcs: Arcs, limits: Limits, index: _Index, before: IntArray, after: IntArray, deadline: float) -> IntArray:
    """``after`` improved by local search (``local.py``) around what changed from ``before``: the arcs of the
    participants who moved and into the peers they left or joined (room a window freed outside it, for one)."""
    changed = np.flatnonzero(before != after)
    peers = np.unique(np.r_[before[changed], after[changed]])
    peers = peers[peers >= 0]
    held = _held(arcs, index, after)
    near = np.unique(np.r_[index.of_cols(peers), index.of_rows(changed), held[held >= 0]])
    return local.improve(arcs.take(near), limits, after, deadline, POLISH_ROUNDS)


def _best_few(arcs: Arcs, idx: IntArray, k: int) -> IntArray:
    """Of the arcs ``idx``, each row's ``k`` of highest gain."""
    if idx.size == 0:
        return idx
    order = idx[np.lexsort((-arcs.cost[idx], arcs.rows[idx]))]
    rows = arcs.rows[order]
    starts = np.r_[0, np.flatnonzero(rows[1:] != rows[:-1]) + 1]
    rank = np.arange(rows.size) - np.repeat(starts, np.diff(np.r_[starts, rows.size]))
    best: IntArray = order[rank < k]
    return best


def _held(arcs: Arcs, index: _Index, assignment: IntArray) -> IntArray:
    """Arc index of each participant's pair (-1 unmatched)."""
    return index.find(assignment)


def _current_cost(arcs: Arcs, index: _Index, assignment: IntArray) -> IntArray:
    at = _held(arcs, index, assignment)
    return np.where(at >= 0, arcs.cost[np.maximum(at, 0)], 0)


def _room(arcs: Arcs, limits: Limits, assignment: IntArray, index: _Index) -> tuple[IntArray, IntArray, IntArray]:
    """Each peer's room left under each limit: load, intake count, category count."""
    m = limits.capacity.size
    at = _held(arcs, index, assignment)
    held = at[at >= 0]
    cols = arcs.cols[held]
    room = limits.capacity - np.bincount(cols, weights=arcs.load[held], minlength=m).astype(np.int64)
    intake = limits.intake - np.bincount(cols, minlength=m)
    cat_room = limits.category_cap - np.bincount(cols[limits.category[arcs.rows[held]]], minlength=m)
    return room, intake, cat_room


def _gain(arcs: Arcs, index: _Index, assignment: IntArray) -> int:
    return int(_current_cost(arcs, index, assignment).sum())
