"""Cores: CP-SAT on the most promising kept arcs first, for a better incumbent.

On large or tied rosters the arcs left after fixing are still many (each
participant has several near-equal peers), and CP-SAT on all of them
spends its time in presolve. A core is each participant's ``k`` kept arcs
that may gain most (by the knapsack bound, ``kbound.reach``) plus the
incumbent's: CP-SAT solves it quickly, and a better incumbent fixes more
arcs (``tighten.refix``). ``k`` doubles when a core is solved or stops
paying. A core's own bound says nothing about the full problem and is
never reported. Small kept models (OR-Library's, for one) skip cores: CP-SAT
proves them faster whole.
"""

from __future__ import annotations

import time

import numpy as np

from alongside.matcher.domain.solver.arcs import Limits
from alongside.matcher.domain.solver.cpsat import OnSolution, build_model, run
from alongside.matcher.domain.solver.gains import Gains
from alongside.matcher.domain.solver.tighten import Tightened, cut, refix

CORE_PER_ROW = 2  # arcs per participant in the first core, by knapsack reach; doubles
MIN_SLICE_S = 0.5
CORES_ABOVE = 10_000  # kept arcs; below this CP-SAT proves small models faster on all of them


def narrow(
    kept: Tightened, gains: Gains, limits: Limits, until: float, seed: int, on_solution: OnSolution
) -> Tightened:
    """Improve ``kept``'s incumbent on growing cores until ``until`` (perf_counter) or until all kept arcs fit one."""
    if kept.arcs.size <= CORES_ABOVE:
        return kept  # CP-SAT on every kept arc is fast and its bound counts
    k = CORE_PER_ROW
    n = kept.assignment.size
    while kept.reach is not None and not kept.closed:
        left = until - time.perf_counter()
        if left < MIN_SLICE_S:
            break
        core = cut(kept.arcs, kept.score, kept.assignment, n, k)
        if core.size >= kept.arcs.size:
            break  # the core is every kept arc: the final solve takes it from here
        cp = run(build_model(core, limits), core, kept.assignment, max(MIN_SLICE_S, left / 2), seed, on_solution)
        if cp.assignment is not None and _cost(gains, cp.assignment) > _cost(gains, kept.assignment):
            kept = refix(kept, cp.assignment, gains)
            if cp.status != "OPTIMAL":
                continue
        k *= 2
    return kept


def _cost(gains: Gains, assignment: np.typing.NDArray[np.int64]) -> int:
    rows = np.flatnonzero(assignment >= 0)
    return int(gains.pair_cost(rows, assignment[rows]).sum())
