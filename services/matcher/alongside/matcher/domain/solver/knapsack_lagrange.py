"""Subgradient search on the knapsack Lagrangian (``kbound.py``), with a Lagrangian heuristic.

Starts from the LP duals of the capacity relaxation (so the first bound is
already no worse than the LP bound) and takes projected Polyak steps
towards the incumbent's gain, halving the step factor when ``L`` stops
falling, and going back to the best multipliers with half the step when a
step overshoots far above it (early on, while the incumbent is poor). On
large problems the steps run on each participant's best arcs by reduced
gain (``SUBSET_PER_ROW``), which is several times faster; only an
evaluation over every arc, every ``FULL_EVERY`` steps, counts as a bound.
Every few steps the knapsacks' packing, repaired (a participant packed by
several peers keeps its best, then ``fill.py`` fills the room left by
reduced gain) and improved by local search (``local.py``, on the subset's
arcs plus each participant's own best few and the incumbent's), may give a
better incumbent; the incumbent itself is searched from too. Stops at the deadline, when
the step factor has shrunk away, or when the bound proves the incumbent
optimal. Everything is in integer gain units.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from alongside.matcher.domain.solver import local
from alongside.matcher.domain.solver.arcs import Arcs, FloatArray, IntArray, Limits
from alongside.matcher.domain.solver.fill import fill
from alongside.matcher.domain.solver.greedy import greedy_in_order
from alongside.matcher.domain.solver.kbound import Evaluation, evaluate, proven, step

START_THETA = 2.0
PATIENCE = 20
MIN_THETA = 1e-2
OVERSHOOT = 0.25  # of the gap: an evaluation this far above the best restarts from it with half the step
HEURISTIC_EVERY = 4
REPORT_EVERY_S = 0.2
FULL_EVERY = 6  # steps on the subset between evaluations on every arc (the only ones that bound)
SUBSET_PER_ROW = 16
KEEP_FOUND = 64  # local search answers kept (their packings join the restricted master's)
OWN_PER_ROW = 6  # each participant's best arcs by gain, added to the subset's for local search

# Told (incumbent gain, bound) in integer units, at most every REPORT_EVERY_S.
OnBound = Callable[[int, int], None]


@dataclass
class KnapsackSearch:
    """Best (lowest) evaluation, the best assignment and its integer gain."""

    best: Evaluation
    assignment: IntArray
    gain: int
    found: list[IntArray] = field(default_factory=list)  # the local search's answers, for ``restricted.py``

    @property
    def bound(self) -> int:
        return max(proven(self.best.value), self.gain)

    @property
    def closed(self) -> bool:
        return proven(self.best.value) <= self.gain


def knapsack_lagrangian(
    arcs: Arcs,
    limits: Limits,
    u: FloatArray,
    assignment: IntArray,
    deadline: float,
    on_bound: OnBound | None = None,
) -> KnapsackSearch:
    """Search from multipliers ``u`` and a feasible ``assignment`` until ``deadline`` (perf_counter)."""
    full = evaluate(arcs, u, limits.capacity)
    state = KnapsackSearch(full, assignment, gain_of(arcs, assignment))
    sub, chosen = _subset(arcs, full)
    own = _own_best(arcs, chosen)
    ev = full if sub is arcs else evaluate(sub, u, limits.capacity)
    low, theta, stall, told, rounds = ev.value, START_THETA, 0, 0.0, 0
    while not state.closed and theta >= MIN_THETA and time.perf_counter() < deadline:
        rounds += 1
        ev = evaluate(sub, step(ev, state.gain, theta), limits.capacity)
        if ev.value < low - 1e-9 * abs(low):
            low, stall = ev.value, 0
        elif ev.value > low + OVERSHOOT * (low - state.gain):
            # Far above the best: the step overshot (the incumbent is still far from the bound). Go back.
            ev, theta, stall = evaluate(sub, state.best.u, limits.capacity), theta / 2, 0
        else:
            stall += 1
            if stall >= PATIENCE:
                theta, stall = theta / 2, 0
        if sub is arcs:
            full = ev
        elif rounds % FULL_EVERY == 0:
            full = evaluate(arcs, ev.u, limits.capacity)
            sub, chosen = _subset(arcs, full)
            ev = evaluate(sub, full.u, limits.capacity)
        if full.value < state.best.value:
            state.best = full
        if rounds % HEURISTIC_EVERY == 0:
            _improve(state, sub, ev, limits, deadline, _near(arcs, chosen, own, state.assignment))
        if on_bound is not None and time.perf_counter() - told >= REPORT_EVERY_S:
            on_bound(state.gain, state.bound)
            told = time.perf_counter()
    best_sub, chosen = _subset(arcs, state.best)
    if best_sub is arcs:
        _improve(state, arcs, state.best, limits, deadline, arcs)
    elif time.perf_counter() < deadline:  # on large problems the extra evaluation costs: only within time
        best_ev = evaluate(best_sub, state.best.u, limits.capacity)
        _improve(state, best_sub, best_ev, limits, deadline, _near(arcs, chosen, own, state.assignment))
    return state


def _subset(arcs: Arcs, full: Evaluation) -> tuple[Arcs, NDArray[np.bool_] | None]:
    """All arcs when they are few (mask ``None``); else those whose reduced gain is highest
    (about ``SUBSET_PER_ROW`` a row), with their mask over ``arcs``."""
    size = SUBSET_PER_ROW * full.u.size
    if arcs.size <= 2 * size:
        return arcs, None
    threshold = np.partition(full.reduced, arcs.size - size)[arcs.size - size]
    chosen = full.reduced >= threshold
    return arcs.take(chosen), chosen


def _own_best(arcs: Arcs, chosen: NDArray[np.bool_] | None) -> NDArray[np.bool_] | None:
    """Each participant's ``OWN_PER_ROW`` arcs of highest gain (``None`` when every arc is in the subset)."""
    if chosen is None:
        return None
    order = np.lexsort((-arcs.cost, arcs.rows))
    starts = np.r_[0, np.flatnonzero(arcs.rows[order][1:] != arcs.rows[order][:-1]) + 1]
    rank = np.arange(arcs.size) - np.repeat(starts, np.diff(np.r_[starts, arcs.size]))
    mask = np.zeros(arcs.size, dtype=np.bool_)
    mask[order[rank < OWN_PER_ROW]] = True
    return mask


def _near(arcs: Arcs, chosen: NDArray[np.bool_] | None, own: NDArray[np.bool_] | None, assignment: IntArray) -> Arcs:
    """The local search's arcs: the subset's (all when ``chosen`` is ``None``), each participant's own best
    few (so that those the subset leaves out can move too) and the incumbent's."""
    if chosen is None or own is None:
        return arcs
    return arcs.take(chosen | own | (assignment[arcs.rows] == arcs.cols))


def _improve(state: KnapsackSearch, arcs: Arcs, ev: Evaluation, limits: Limits, deadline: float, near: Arcs) -> None:
    """Repair the knapsacks' packing into an assignment; local search (``local.py``) on ``near`` (which
    holds ``arcs`` and the incumbent's pairs) from it and from the incumbent; keep the best if it gains more."""
    taken = ev.knapsacks.taken
    first = taken[np.lexsort((-arcs.cost[taken], arcs.rows[taken]))]
    found = fill(arcs, ev.reduced, limits, greedy_in_order(arcs, [first], limits))
    for start in (found, state.assignment):
        better = local.improve(near, limits, start, deadline)
        if len(state.found) < KEEP_FOUND:
            state.found.append(better)
        gain = gain_of(near, better)
        if gain > state.gain:
            state.assignment, state.gain = better, gain


def gain_of(arcs: Arcs, assignment: IntArray) -> int:
    """Integer gain of ``assignment`` over ``arcs`` (pairs outside ``arcs`` count 0; callers keep them in)."""
    picked = assignment[arcs.rows] == arcs.cols
    return int(arcs.cost[picked].sum())
