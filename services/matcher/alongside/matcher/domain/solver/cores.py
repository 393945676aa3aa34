"""Cores: CP-SAT on the most promising kept arcs first, for a better incumbent.

On large or tied rosters the arcs left after fixing are still many (each
participant has several near-equal peers), and CP-SAT on all of them
spends its time in presolve. A core is the ``CORE_ARCS`` kept arcs whose
solutions may gain most (by the knapsack bound, ``kbound.reach``) plus the
incumbent's: CP-SAT solves it quickly, and a better incumbent fixes more
arcs (``tighten.refix``). The core doubles when it stops paying. A core's
own bound says nothing about the full problem and is never reported.
"""

from __future__ import annotations

import time

import numpy as np

from alongside.matcher.domain.solver.arcs import Limits
from alongside.matcher.domain.solver.cpsat import OnSolution, build_model, run
from alongside.matcher.domain.solver.gains import Gains
from alongside.matcher.domain.solver.tighten import Tightened, refix

CORE_ARCS = 4000
MIN_SLICE_S = 0.5


def narrow(
    kept: Tightened, gains: Gains, limits: Limits, until: float, seed: int, on_solution: OnSolution
) -> Tightened:
    """Improve ``kept``'s incumbent on growing cores until ``until`` (perf_counter) or until all kept arcs fit one."""
    size = CORE_ARCS
    while kept.reach is not None and not kept.closed and kept.arcs.size > size:
        left = until - time.perf_counter()
        if left < MIN_SLICE_S:
            break
        cut_at = kept.arcs.size - size
        threshold = np.partition(kept.reach, cut_at)[cut_at]
        inside = (kept.reach >= threshold) | (kept.assignment[kept.arcs.rows] == kept.arcs.cols)
        core = kept.arcs.take(inside)
        cp = run(build_model(core, limits), core, kept.assignment, max(MIN_SLICE_S, left / 2), seed, on_solution)
        if cp.assignment is not None and _cost(gains, cp.assignment) > _cost(gains, kept.assignment):
            kept = refix(kept, cp.assignment, gains)
            if cp.status != "OPTIMAL":
                continue
        size *= 2
    return kept


def _cost(gains: Gains, assignment: np.typing.NDArray[np.int64]) -> int:
    rows = np.flatnonzero(assignment >= 0)
    return int(gains.pair_cost(rows, assignment[rows]).sum())
