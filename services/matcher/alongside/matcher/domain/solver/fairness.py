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
capacity, so each probe is a flow.

Each answer is proven, never guessed, but with as little solving as that
allows: a level's "yes" needs only a flow that reaches the target, its "no"
only an upper bound below it, and slot prices learnt at any level bound
every level (``prices.py``), so many levels are refuted without a solve.
``G*`` itself is only pinned down as far as the answers need (``_Target``).
The solution returned is certified optimal at the level found. With
``tol = 0`` it is lexicographic: the optimum first, then the smallest
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
_TOP_SLACK = 16  # the top solve stops once its gap is this fraction of the tolerance or less


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
    if problem.side.fairness_measure == "utilisation":
        num, den = utilisation_levels(problem.capacity)
    else:
        num, den = load_levels(problem.capacity, unit)
    target = _Target(solver, base_slots(problem, unit), problem.side.fairness_tolerance)

    def slots(level: int) -> IntArray:
        return slots_at(problem, unit, int(num[level]), int(den[level]))

    top = num.size - 1  # the top level lifts no limit: the unconstrained optimum answers it
    # Prices bound every level, monotonely in the level (``prices.py``): refuted levels are a prefix.
    bottom = _lowest_yes(lambda level: solver.bound_at(slots(level)) >= target.low, top)
    high = _lowest_yes(lambda level: target.reached_at(slots(level)), top, bottom)
    if high == top:
        return target.best()
    return solver.solve(slots(high))


class _Target:
    """The gain a level must reach: ``G* - floor(tol * G*)``, ``G*`` the unconstrained optimum.

    ``G*`` is only known to lie between the top solve's gain and its bound
    until something needs it exactly. The target is monotone in ``G*``
    (shown below), so a level whose gain reaches the target at the bound
    reaches the true one, and a level whose bound misses the target at the
    gain misses it too; only a level left undecided makes the top solve
    finish. This spares certifying a top solve whose last arcs the levels
    below never need.
    """

    def __init__(self, solver: FlowSolver, slots: IntArray, tolerance: float) -> None:
        self.solver, self.slots, self.tolerance = solver, slots, tolerance
        self.top = solver.search(slots, self._close_enough)

    def _close_enough(self, gain: int, bound: int) -> bool:
        # Monotone: with tol <= 1/2 and G < 2**50, fl(tol * (G + 1)) - fl(tol * G) < 1 in doubles,
        # so the floor grows by at most 1 per unit of G. Elsewhere, certify the top exactly.
        if self.tolerance > 0.5 or bound >= 2**50:
            return False
        return bound - gain <= math.floor(self.tolerance * gain) // _TOP_SLACK

    def of(self, gain: int) -> int:
        return gain - math.floor(self.tolerance * gain)

    @property
    def low(self) -> int:
        return self.of(self.top.gain)

    @property
    def high(self) -> int:
        return self.of(self.top.bound)

    def reached_at(self, slots: IntArray) -> bool:
        """Whether the optimum at these slots reaches the target (exact)."""
        if self.solver.bound_at(slots) < self.low:
            return False
        probe = self.solver.search(slots, lambda gain, bound: gain >= self.high or bound < self.low)
        if probe.gain >= self.high or probe.bound < self.low:
            return probe.gain >= self.high
        self.best()  # the probe is optimal: only G* is left to settle
        return probe.gain >= self.low

    def best(self) -> FlowSolution:
        if not self.top.optimal:
            self.top = self.solver.search(self.slots)
        return self.top.solution


def _lowest_yes(reaches: Callable[[int], bool], top: int, bottom: int = 0) -> int:
    """Smallest level in ``bottom..top`` that reaches the target (``top`` does; monotone).

    Steps down from the top by 1, 1, 2, 4... levels, then bisects the last
    step: with a small tolerance the answer is usually one or two levels
    below the top, and each probe is a flow solve, so this beats bisecting
    the whole range while staying logarithmic when the answer is far down.
    """
    high, step, low, taken = top, 1, bottom, 0
    while high > bottom:
        probe = max(high - step, bottom)
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
