"""Min-max fairness for the flow case, by a search over a bound on peer load.

Definition (``fairness="minmax"``, tolerance ``tol``): let ``G*`` be the best
total gain (see ``gains.py``). The measure of peer ``j`` is the acuity load
it receives in this batch (``fairness_measure="load"``) or that load over the
capacity it offered (``"utilisation"``). Find the smallest bound ``t`` such
that, with every peer's measure at most ``t``, the best total gain is still
at least ``G* - floor(tol * G*)`` (integer units); return the best solution
under that ``t``.

This is exact, and a plain binary search suffices: the best gain under ``t``
only grows with ``t``, and the only values of ``t`` that change any limit
are whole loads (``k * unit``) or the fractions ``a / capacity[j]``, so
searching over those finds the true minimum. A bound on load is just an arc
capacity, so each probe is a flow. The first solve and the final one are
certified optimal; a probe's "yes" needs only a solution that reaches the
target, and its "no" only a dual bound below it (``FlowSolver.solve``).
With ``tol = 0`` it is lexicographic: the optimum first, then the smallest
maximum among optima.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from alongside.matcher.domain.solver.flow import FlowSolver, base_slots
from alongside.matcher.domain.solver.network import FlowSolution, IntArray
from alongside.matcher.domain.solver.problem import BatchProblem

Levels = tuple[IntArray, IntArray]


def utilisation_levels(capacity: IntArray) -> Levels:
    """Distinct fractions ``a / c`` (numerators, denominators), ascending, for c in capacity."""
    caps = np.unique(capacity[capacity > 0]).astype(np.int64)
    if caps.size == 0:
        return np.array([1], dtype=np.int64), np.array([1], dtype=np.int64)
    num = np.concatenate([np.arange(c + 1) for c in caps]).astype(np.int64)
    den = np.concatenate([np.full(c + 1, c) for c in caps]).astype(np.int64)
    common = np.gcd(num, den)
    num, den = num // common, den // common
    base = int(caps.max()) + 1
    key = np.unique(num * base + den)
    num, den = key // base, key % base
    order = np.argsort(num / den, kind="stable")
    return num[order], den[order]


def load_levels(capacity: IntArray, unit: int) -> Levels:
    """Whole loads ``0, unit, 2 unit, ...`` up to the largest capacity (denominator 1)."""
    top = int(capacity.max(initial=0)) // unit
    return np.arange(top + 1, dtype=np.int64) * unit, np.ones(top + 1, dtype=np.int64)


def slots_at(problem: BatchProblem, unit: int, num: int, den: int) -> IntArray:
    """Slots when every peer's measure is at most ``num / den``."""
    capacity = problem.capacity.astype(np.int64)
    if problem.side.fairness_measure == "utilisation":
        units = (capacity * num) // den
    else:
        units = np.minimum(capacity, num // den)
    return np.minimum(base_slots(problem, unit), units // unit)


def minmax_flow(problem: BatchProblem, solver: FlowSolver, unit: int) -> FlowSolution:
    """The best solution at the smallest bound keeping the gain within tolerance."""
    best = solver.solve(base_slots(problem, unit))
    target = best.total_cost - math.floor(problem.side.fairness_tolerance * best.total_cost)
    if problem.side.fairness_measure == "utilisation":
        num, den = utilisation_levels(problem.capacity)
    else:
        num, den = load_levels(problem.capacity, unit)

    def reaches(level: int) -> bool:
        slots = slots_at(problem, unit, int(num[level]), int(den[level]))
        return solver.solve(slots, accept_at=target).total_cost >= target

    high = _lowest_yes(reaches, num.size - 1)  # the top level lifts no limit: ``best`` answers it
    if high == num.size - 1:
        return best
    return solver.solve(slots_at(problem, unit, int(num[high]), int(den[high])))


def _lowest_yes(reaches: Callable[[int], bool], top: int) -> int:
    """Smallest level in ``0..top`` that reaches the target (``top`` does; monotone).

    Steps down from the top by 1, 1, 2, 4... levels, then bisects the last
    step: with a small tolerance the answer is usually one or two levels
    below the top, and each probe is a flow solve, so this beats bisecting
    the whole range while staying logarithmic when the answer is far down.
    """
    high, step, low, taken = top, 1, 0, 0
    while high > 0:
        probe = max(high - step, 0)
        if not reaches(probe):
            low = probe + 1
            break
        high, taken = probe, taken + 1
        step = step if taken < 2 else 2 * step
    while low < high:
        mid = (low + high) // 2
        if reaches(mid):
            high = mid
        else:
            low = mid + 1
    return high
