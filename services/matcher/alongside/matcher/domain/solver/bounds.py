"""Lagrangian upper bound for the full generalised assignment problem.

Relax every per-peer limit with a multiplier: ``lam[j] >= 0`` on load within
capacity, ``mu[j] >= 0`` on the intake cap, ``nu[j] >= 0`` on the category
cap. What is left splits by participant: each takes its best reduced gain

    r[i, j] = gain[i, j] - lam[j] * load[i, j] - mu[j] - nu[j] * category[i]

or 0 (unmatched). For any multipliers ``>= 0``,

    L = sum_i max(0, max_j r[i, j]) + lam . capacity + mu . intake_cap + nu . category_cap

bounds the best total gain from above (weak duality), and equals the LP
bound at the best multipliers. Only a ``full_bound`` evaluation, over every
usable pair, is reported: the subgradient iterations run on a candidate
subset to be fast, and arcs whose reduced gain beats their row's best are
pulled in at each full check.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from alongside.matcher.domain.solver.arcs import NO_LIMIT, Arcs, FloatArray, IntArray, Limits
from alongside.matcher.domain.solver.gains import Gains


@dataclass(frozen=True)
class Multipliers:
    lam: FloatArray
    mu: FloatArray
    nu: FloatArray

    def constant(self, limits: Limits) -> float:
        """``lam . capacity + mu . intake + nu . category_cap`` over limits that exist."""
        total = float(self.lam @ limits.capacity)
        total += float(self.mu[limits.intake < NO_LIMIT] @ limits.intake[limits.intake < NO_LIMIT])
        has_cat = limits.category_cap < NO_LIMIT
        return total + float(self.nu[has_cat] @ limits.category_cap[has_cat])


@dataclass(frozen=True)
class FullBound:
    value: float
    reduced: FloatArray
    best: FloatArray


def reduced_gain(arcs: Arcs, mult: Multipliers, limits: Limits) -> FloatArray:
    """``r`` on the given arcs."""
    r = arcs.gain - mult.lam[arcs.cols] * arcs.load - mult.mu[arcs.cols]
    return r - mult.nu[arcs.cols] * limits.category[arcs.rows]


def row_best(rows: IntArray, values: FloatArray, n: int) -> FloatArray:
    """Per-row maximum of ``values`` (rows sorted ascending), floored at 0."""
    best = np.zeros(n)
    if rows.size:
        starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
        best[rows[starts]] = np.maximum.reduceat(values, starts)
    return np.maximum(best, 0.0)


@dataclass(frozen=True)
class DenseGap:
    """Dense float copies made once: gain with ``-inf`` off the usable pairs, and load."""

    gain: FloatArray
    load: FloatArray

    @staticmethod
    def of(gains: Gains) -> DenseGap:
        return DenseGap(np.where(gains.usable, gains.gain, -np.inf), gains.load.astype(np.float64))


def full_bound(dense: DenseGap, mult: Multipliers, limits: Limits) -> FullBound:
    """Exact ``L`` over every usable pair, with the dense reduced gains (``-inf`` off usable pairs)."""
    r = dense.load * -mult.lam[None, :]
    r += dense.gain
    if mult.mu.any():
        r -= mult.mu[None, :]
    if mult.nu.any():
        r[limits.category] -= mult.nu[None, :]
    best = np.maximum(r.max(axis=1, initial=-np.inf), 0.0)
    return FullBound(float(best.sum()) + mult.constant(limits), r, best)


def subgradient_step(
    arcs: Arcs, mult: Multipliers, limits: Limits, theta: float, target: float
) -> tuple[Multipliers, float]:
    """One projected Polyak step towards ``target``; returns new multipliers and ``L`` on ``arcs``."""
    n = limits.category.size
    r = reduced_gain(arcs, mult, limits)
    best = row_best(arcs.rows, r, n)
    picked = np.flatnonzero((r >= best[arcs.rows]) & (r > 0))
    # Arcs are row-sorted: keep the first best arc of each row (ties would double-count).
    picked_rows = arcs.rows[picked]
    chosen = picked[np.r_[True, picked_rows[1:] != picked_rows[:-1]]] if picked.size else picked
    m = mult.lam.size
    cols = arcs.cols[chosen]
    used_load = np.bincount(cols, weights=arcs.load[chosen], minlength=m)
    used = np.bincount(cols, minlength=m).astype(np.float64)
    used_cat = np.bincount(cols, weights=limits.category[arcs.rows[chosen]], minlength=m)
    g_lam = limits.capacity - used_load
    g_mu = np.where(limits.intake < NO_LIMIT, limits.intake - used, 0.0)
    g_nu = np.where(limits.category_cap < NO_LIMIT, limits.category_cap - used_cat, 0.0)
    value = float(best.sum()) + mult.constant(limits)
    norm = float(g_lam @ g_lam + g_mu @ g_mu + g_nu @ g_nu)
    if norm == 0.0:
        return mult, value
    t = theta * max(value - target, 1e-9 * abs(value)) / norm
    new = Multipliers(
        np.maximum(mult.lam - t * g_lam, 0.0),
        np.maximum(mult.mu - t * g_mu, 0.0),
        np.maximum(mult.nu - t * g_nu, 0.0),
    )
    return new, value
