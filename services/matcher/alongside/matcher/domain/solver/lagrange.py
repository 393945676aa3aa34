"""Lagrangian heuristic: the bound of ``bounds.py`` plus greedy incumbents.

Polyak subgradient steps towards the incumbent's gain, halving the step
factor when ``L`` stops falling. Steps run on a candidate arc subset, which
is fast; each round ends with a full evaluation, the only value reported as
a bound (the best is kept), and adds to the subset, per participant, the
arcs whose reduced gain beats everything the subset offers that
participant (column generation). Each round also runs the greedy with the
current prices and keeps the best assignment.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from alongside.matcher.domain.solver.arcs import Arcs, IntArray, Limits, arcs_from_mask
from alongside.matcher.domain.solver.bounds import (
    DenseGap,
    FullBound,
    Multipliers,
    full_bound,
    reduced_gain,
    row_best,
    subgradient_step,
)
from alongside.matcher.domain.solver.gains import Gains
from alongside.matcher.domain.solver.greedy import greedy
from alongside.matcher.domain.solver.prune import top_per_row

STEPS_PER_ROUND = 25
PATIENCE = 6
MIN_THETA = 1e-3
COLUMNS_PER_ROW = 8  # arcs pulled into the subset per participant and round


@dataclass
class Lagrangian:
    """Best bound and multipliers so far, the candidate arcs, the best assignment and its gain."""

    mult: Multipliers
    full: FullBound
    candidate: NDArray[np.bool_]
    assignment: IntArray
    gain: float


def lagrangian(
    gains: Gains, dense: DenseGap, limits: Limits, candidate: NDArray[np.bool_], deadline: float, rounds: int
) -> Lagrangian:
    """Run up to ``rounds`` rounds (or until ``deadline``, a perf_counter time)."""
    m = gains.gain.shape[1]
    mult = Multipliers(np.zeros(m), np.zeros(m), np.zeros(m))
    arcs = arcs_from_mask(gains, candidate)
    first = greedy(arcs, arcs.gain, limits)
    state = Lagrangian(mult, full_bound(dense, mult, limits), candidate, first, _gain(gains, first))
    theta, low, stall = 1.0, np.inf, 0
    for _ in range(rounds):
        for _ in range(STEPS_PER_ROUND):
            mult, value = subgradient_step(arcs, mult, limits, theta, state.gain)
            low, stall = (value, 0) if value < low - 1e-12 * abs(low) else (low, stall + 1)
            if stall >= PATIENCE:
                theta, stall = max(theta / 2, MIN_THETA), 0
        grown = _round_end(gains, dense, limits, mult, arcs, state)
        if grown is not arcs:
            # A larger subset has a larger L: restart the stall count and the step.
            arcs, theta, low = grown, 1.0, np.inf
        if time.perf_counter() > deadline or state.full.value - state.gain <= 1e-9 * abs(state.gain):
            break
    return state


def _round_end(gains: Gains, dense: DenseGap, limits: Limits, mult: Multipliers, arcs: Arcs, state: Lagrangian) -> Arcs:
    """Full check, incumbent update and column generation; returns the new subset."""
    full = full_bound(dense, mult, limits)
    if full.value < state.full.value:
        state.mult, state.full = mult, full
    reduced = reduced_gain(arcs, mult, limits)
    found = greedy(arcs, reduced, limits)
    value = _gain(gains, found)
    if value > state.gain:
        state.assignment, state.gain = found, value
    excess = full.reduced - row_best(arcs.rows, reduced, limits.category.size)[:, None]
    missing = excess > 0
    missing &= ~state.candidate
    count = int(np.count_nonzero(missing))
    if count == 0:
        return arcs
    if count > COLUMNS_PER_ROW * missing.shape[0]:
        scaled = np.where(missing, np.rint(excess * gains.scale), 0).astype(np.int64)
        missing = top_per_row(missing, scaled, COLUMNS_PER_ROW)
    state.candidate = state.candidate | missing
    return arcs_from_mask(gains, state.candidate)


def _gain(gains: Gains, assignment: IntArray) -> float:
    rows = np.flatnonzero(assignment >= 0)
    return float(gains.gain[rows, assignment[rows]].sum())
