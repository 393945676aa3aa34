"""What CP-SAT gets: the arcs kept by reduced-cost fixing, a hint and a bound for the full problem.

Two relaxations (``Relaxation``):

- ``"lp"``: the capacity relaxation of ``bounds.py`` alone (its bound is the
  LP bound), fixing arcs by its reduced gains.
- ``"knapsack"`` (the default): that first, then the knapsack Lagrangian
  (``kbound.py``, ``knapsack_lagrange.py``) on the arcs the LP fixing kept:
  its exact dual by column generation (``colgen.py``, from the LP duals,
  on up to ``COLGEN_ARCS`` arcs), then the subgradient search from there
  for incumbents; its bound is at least as tight, it usually
  finds a better incumbent, and its fixing drops arcs the LP's keeps (how
  many depends on the gap left: few on tied rosters). Both fixings are
  safe, so applying one after the other is too: whatever is dropped is in
  no solution better than the incumbent. ``gap.py`` runs it only where it
  pays (large models with an LP gap).

When the kept arcs are too many for CP-SAT, ``Tightened.model`` cuts them
to each participant's best few; CP-SAT's bound then says nothing about the
full problem and only the Lagrangian bound is reported.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from alongside.matcher.domain.solver import colgen, kbound
from alongside.matcher.domain.solver.arcs import Arcs, FloatArray, IntArray, Limits, arcs_from_mask
from alongside.matcher.domain.solver.gains import Gains
from alongside.matcher.domain.solver.knapsack_lagrange import OnBound, knapsack_lagrangian
from alongside.matcher.domain.solver.lagrange import Lagrangian

Relaxation = Literal["knapsack", "lp"]

MAX_CP_ARCS = 40_000
CP_K = 3
COLGEN_ARCS = 100_000  # column generation on the knapsack dual up to this many arcs (its rounds price every arc)
# Column generation may take up to this multiple of the knapsack phase's window: the bound hangs on its
# converging, it usually does in a fraction of the window, and the subgradient search takes what is left.
COLGEN_SPAN = 1.5


@dataclass(frozen=True)
class Tightened:
    """The arcs left after fixing, an incumbent, and a ``bound`` (gain units) for the full problem.

    ``score`` ranks the arcs for cutting (higher is more promising); ``reach`` (knapsack only) is,
    per arc, the most integer gain a solution using it can reach, so a better incumbent fixes more.
    ``closed``: the bound proves ``assignment`` optimal.
    """

    arcs: Arcs
    score: FloatArray
    reach: IntArray | None
    assignment: IntArray
    gain: float
    bound: float
    closed: bool
    top: int | None = None  # the knapsack bound in integer gain units
    packings: colgen.Packings | None = None  # the knapsack dual's columns (``restricted.py``)

    def model(self, n: int) -> tuple[Arcs, bool]:
        """The arcs for CP-SAT, and whether they are all the kept ones (so its bound holds)."""
        if self.arcs.size <= MAX_CP_ARCS:
            return self.arcs, True
        return cut(self.arcs, self.score, self.assignment, n), False


def reach(lag: Lagrangian, gains: Gains, threshold: float) -> NDArray[np.bool_]:
    """Usable arcs of solutions that may gain more than ``threshold`` by the LP reduced gains, plus the incumbent's."""
    slack = lag.full.value - threshold + 1e-9 * max(1.0, abs(lag.full.value))
    mask = gains.usable & (lag.full.reduced >= (lag.full.best - slack)[:, None])
    rows = np.flatnonzero(lag.assignment >= 0)
    mask[rows, lag.assignment[rows]] = True
    return mask


def cut(arcs: Arcs, score: FloatArray, assignment: IntArray, n: int, k: int = CP_K) -> Arcs:
    """Each row's ``k`` best arcs by ``score`` (ties kept), plus the arcs of ``assignment``."""
    order = np.lexsort((-score, arcs.rows))
    starts = np.r_[0, np.cumsum(np.bincount(arcs.rows, minlength=n))[:-1]]
    rank = np.empty(arcs.size, dtype=np.int64)
    rank[order] = np.arange(arcs.size) - starts[arcs.rows[order]]
    keep = (rank < k) | (assignment[arcs.rows] == arcs.cols)
    return arcs.take(keep)


def by_lp(lag: Lagrangian, gains: Gains) -> Tightened:
    arcs = arcs_from_mask(gains, reach(lag, gains, lag.gain))
    score = lag.full.reduced[arcs.rows, arcs.cols]
    return Tightened(arcs, score, None, lag.assignment, lag.gain, lag.full.value, False)


def by_knapsack(lag: Lagrangian, gains: Gains, limits: Limits, deadline: float, on_bound: OnBound) -> Tightened:
    n = gains.gain.shape[0]
    arcs = arcs_from_mask(gains, reach(lag, gains, lag.gain))
    dual = _dual(arcs, lag, limits, lag.full.best * gains.scale, deadline, on_bound)
    u = lag.full.best * gains.scale if dual is None else dual.best.u
    search = knapsack_lagrangian(arcs, limits, u, lag.assignment, deadline, on_bound)
    most = kbound.reach(search.best, arcs, limits.capacity)
    keep = (most >= search.gain) | (search.assignment[arcs.rows] == arcs.cols)
    rows = np.flatnonzero(search.assignment >= 0)
    gain = float(gains.gain[rows, search.assignment[rows]].sum())
    bound = min(lag.full.value, search.bound / gains.scale + n * gains.rounding)
    kept, most = arcs.take(keep), most[keep]
    top = kbound.proven(search.best.value)
    score = most.astype(np.float64)
    packings = None if dual is None else colgen.Packings.of(arcs, dual.columns).joined(search.found)
    return Tightened(kept, score, most, search.assignment, gain, max(bound, gain), search.closed, top, packings)


def _dual(
    arcs: Arcs, lag: Lagrangian, limits: Limits, u: FloatArray, deadline: float, on_bound: OnBound
) -> colgen.Dual | None:
    """The exact knapsack dual (``colgen.py``) from ``u``, when ``arcs`` are few enough; the subgradient
    search then starts at its multipliers, for incumbents, and its bound is the dual's."""
    if arcs.size > COLGEN_ARCS:
        return None
    now = time.perf_counter()
    start = kbound.evaluate(arcs, u, limits.capacity)
    lp_gain = int(arcs.cost[lag.assignment[arcs.rows] == arcs.cols].sum())
    until = now + COLGEN_SPAN * (deadline - now)

    def told(value: float) -> None:
        on_bound(lp_gain, max(kbound.proven(value), lp_gain))

    told(start.value)  # the knapsack bound at the LP duals holds already: a watcher sees it at once
    return colgen.exact_dual(arcs, limits.capacity, start, lag.assignment, until, gain=lp_gain, on_bound=told)


def refix(kept: Tightened, assignment: IntArray, gains: Gains) -> Tightened:
    """``kept`` with a better incumbent: the arcs it no longer reaches dropped."""
    if kept.reach is None:
        return kept
    rows = np.flatnonzero(assignment >= 0)
    gain = float(gains.gain[rows, assignment[rows]].sum())
    int_gain = int(gains.pair_cost(rows, assignment[rows]).sum())
    keep = (kept.reach >= int_gain) | (assignment[kept.arcs.rows] == kept.arcs.cols)
    closed = kept.top is not None and kept.top <= int_gain
    arcs, score, most = kept.arcs.take(keep), kept.score[keep], kept.reach[keep]
    return Tightened(arcs, score, most, assignment, gain, max(kept.bound, gain), closed, kept.top, kept.packings)
