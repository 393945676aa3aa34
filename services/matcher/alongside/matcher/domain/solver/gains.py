"""Gains and their integer scale, shared by every engine.

Leaving ``i`` unmatched costs ``u[i]`` whatever else happens, so the
objective equals ``sum(gain[i, a[i]] for matched i) - sum(u)`` with
``gain = profit + u[:, None]``. Engines maximise total gain; a pair whose
gain is not positive never helps and is dropped.

OR-Tools wants integers. The scale ``s`` is 1 when every usable gain is an
integer no larger than 2**30 (exact), and otherwise ``2**20 / max gain``, so
the largest gain becomes about a million units. Each gain is rounded to the
nearest unit, off by at most ``0.5 / s`` (recorded as ``rounding``, 0 when
exact), so a solution optimal for the rounded gains is within
``2 * n * rounding`` of the true optimum: about ``n * max_gain * 1e-6``.
Gains that round to 0 are dropped too. Objectives are always reported in
the caller's units, recomputed from the assignment.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from alongside.matcher.domain.solver.problem import BatchProblem

EXACT_LIMIT = 2.0**30  # integer gains (and sums of two) stay within 32 bits
RESOLUTION = 2.0**20


CostArray = NDArray[np.int32]


@dataclass(frozen=True)
class Gains:
    """Dense per-pair data. ``cost`` (the integer gain, 32-bit to halve memory traffic) is
    zero outside ``usable``; ``gain`` is only meaningful on usable pairs.

    ``load`` is ``(n, 1)`` or ``(n, m)``: index it through ``pair_load``.
    """

    gain: NDArray[np.float64]
    cost: CostArray
    load: NDArray[np.int64]
    usable: NDArray[np.bool_]
    scale: float
    rounding: float

    def pair_load(self, rows: NDArray[np.int64], cols: NDArray[np.int64]) -> NDArray[np.int64]:
        picked: NDArray[np.int64] = self.load[rows, 0] if self.load.shape[1] == 1 else self.load[rows, cols]
        return picked

    def pair_cost(self, rows: NDArray[np.int64], cols: NDArray[np.int64]) -> NDArray[np.int64]:
        return self.cost[rows, cols].astype(np.int64)


def prepare(problem: BatchProblem) -> Gains:
    """Gains and integer gains over the pairs worth assigning."""
    n = problem.n
    load = (problem.load.reshape(n, 1) if problem.load.ndim == 1 else problem.load).astype(np.int64)
    capacity = problem.capacity.astype(np.int64)
    gain = problem.profit.astype(np.float64)  # a copy: the caller's array is never written
    gain += problem.unmatched_penalty.astype(np.float64)[:, None]
    base = gain > 0
    base &= problem.feasible
    if load.size and int(load.max()) > int(capacity.min(initial=0)):
        base &= load <= capacity[None, :]
    scaled = np.where(base, gain, 0.0)
    # Gains on ``base`` are positive, so the plain maximum of ``scaled`` is their maximum (or 0):
    # one pass, where a masked ``np.max`` takes several.
    scale = _scale_for(float(scaled.max(initial=0.0)), gain, base)
    scaled *= scale
    np.rint(scaled, out=scaled)
    usable = scaled > 0
    rounding = 0.0 if scale == 1.0 else 0.5 / scale
    return Gains(gain, scaled.astype(np.int32), load, usable, scale, rounding)


def choose_scale(gain: NDArray[np.float64], where: NDArray[np.bool_]) -> float:
    """1 for small integral gains, else a scale giving ~2**20 units at the top."""
    return _scale_for(float(np.max(gain, where=where, initial=0.0)), gain, where)


def _scale_for(top: float, gain: NDArray[np.float64], where: NDArray[np.bool_]) -> float:
    """``choose_scale`` once the largest gain on ``where`` (or 0) is known."""
    if not where.any():
        return 1.0
    if top <= EXACT_LIMIT and _integral(gain, where):
        return 1.0
    return RESOLUTION / top


def _integral(gain: NDArray[np.float64], where: NDArray[np.bool_]) -> bool:
    # Float data fails on the first few values, so a sample spares a full pass.
    sample = gain.ravel()[:4096][where.ravel()[:4096]]
    if not bool(np.all(sample == np.rint(sample))):
        return False
    return bool(np.all(gain == np.rint(gain), where=where))


def objective_of(problem: BatchProblem, assignment: NDArray[np.int64]) -> float:
    """The objective of ``assignment`` in the caller's units (float)."""
    matched = assignment >= 0
    rows = np.flatnonzero(matched)
    earned = float(problem.profit[rows, assignment[rows]].astype(np.float64).sum())
    lost = float(problem.unmatched_penalty[~matched].astype(np.float64).sum())
    return earned - lost


def total_penalty(problem: BatchProblem) -> float:
    return float(problem.unmatched_penalty.astype(np.float64).sum())
