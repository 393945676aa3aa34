"""Subgradient search on the knapsack Lagrangian (``kbound.py``), with a Lagrangian heuristic.

Starts from the LP duals of the capacity relaxation (so the first bound is
already no worse than the LP bound) and takes projected Polyak steps
towards the incumbent's gain, halving the step factor when ``L`` stops
falling. Every few steps the knapsacks' packing, repaired greedily (a
participant packed by several peers keeps its best, then the rest are
filled by reduced gain), may give a better incumbent. Stops at the
deadline, when the step factor has shrunk away, or when the bound proves
the incumbent optimal. Everything is in integer gain units.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from alongside.matcher.domain.solver.arcs import Arcs, FloatArray, IntArray, Limits
from alongside.matcher.domain.solver.greedy import greedy_in_order
from alongside.matcher.domain.solver.kbound import Evaluation, evaluate, proven, step

START_THETA = 2.0
PATIENCE = 20
MIN_THETA = 1e-3
HEURISTIC_EVERY = 4
REPORT_EVERY_S = 0.2

# Told (incumbent gain, bound) in integer units whenever either improves, at most every REPORT_EVERY_S.
OnBound = Callable[[int, int], None]


@dataclass
class KnapsackSearch:
    """Best (lowest) evaluation, the best assignment and its integer gain."""

    best: Evaluation
    assignment: IntArray
    gain: int

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
    ev = evaluate(arcs, u, limits.capacity)
    state = KnapsackSearch(ev, assignment, gain_of(arcs, assignment))
    theta, stall, told = START_THETA, 0, 0.0
    rounds = 0
    while not state.closed and theta >= MIN_THETA and time.perf_counter() < deadline:
        rounds += 1
        ev = evaluate(arcs, step(ev, state.gain, theta), limits.capacity)
        if ev.value < state.best.value - 1e-9 * abs(state.best.value):
            state.best, stall = ev, 0
        else:
            stall += 1
            if stall >= PATIENCE:
                theta, stall = theta / 2, 0
        if rounds % HEURISTIC_EVERY == 0:
            _improve(state, arcs, ev, limits)
        if on_bound is not None and time.perf_counter() - told >= REPORT_EVERY_S:
            on_bound(state.gain, state.bound)
            told = time.perf_counter()
    _improve(state, arcs, state.best, limits)
    return state


def _improve(state: KnapsackSearch, arcs: Arcs, ev: Evaluation, limits: Limits) -> None:
    """Repair the knapsacks' packing into an assignment; keep it if it gains more."""
    taken = ev.knapsacks.taken
    first = taken[np.lexsort((-arcs.cost[taken], arcs.rows[taken]))]
    rest = np.flatnonzero(ev.reduced > -np.inf)
    rest = rest[np.argsort(-ev.reduced[rest], kind="stable")]
    found = greedy_in_order(arcs, [first, rest], limits)
    gain = gain_of(arcs, found)
    if gain > state.gain:
        state.assignment, state.gain = found, gain


def gain_of(arcs: Arcs, assignment: IntArray) -> int:
    """Integer gain of ``assignment`` over ``arcs`` (pairs outside ``arcs`` count 0; callers keep them in)."""
    picked = assignment[arcs.rows] == arcs.cols
    return int(arcs.cost[picked].sum())
