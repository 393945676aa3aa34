"""Knapsack Lagrangian bound: relax "at most one peer per participant" instead of capacity.

With ``u[i] >= 0`` on each participant's assignment row, what is left splits
by peer into a 0-1 knapsack over the reduced gains ``p[i, j] = cost[i, j] -
u[i]`` within the peer's capacity in acuity units:

    L(u) = sum_i u[i] + sum_j KP_j(p[., j])

bounds the best total (integer) gain from above for any ``u >= 0``. Each
knapsack is solved exactly (``knapsack.py``), so at the best ``u`` the bound
is at least as tight as the LP bound (the capacity relaxation of
``bounds.py``, whose optimal ``u`` is the start here), and tighter where
the LP would split a participant across peers or fill a peer fractionally.
Intake and category caps are left out of the knapsacks: the bound stays
valid (a relaxation of a relaxation), only weaker on problems that have them.

Reduced-cost fixing: a solution that uses arc ``(i, j)`` gains at most
``L - KP_j + p[i, j] + table_j[capacity_j - load[i, j]]`` (peer ``j``'s
knapsack with ``i`` forced in). Gains are integers here, so an arc whose
bound, rounded down, is below the incumbent's gain is in no optimal
solution and can be dropped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from alongside.matcher.domain.solver.arcs import Arcs, FloatArray, IntArray
from alongside.matcher.domain.solver.knapsack import Knapsacks, pack, reduce_items, solve_knapsacks

TOLERANCE = 1e-7  # relative: floats below an integer by this much count as that integer


@dataclass(frozen=True)
class Evaluation:
    """``L(u)`` (integer gain units), the knapsacks, and how many peers packed each participant."""

    value: float
    u: FloatArray
    knapsacks: Knapsacks
    reduced: FloatArray  # per arc
    count: IntArray  # (n,)


def evaluate(arcs: Arcs, u: FloatArray, capacity: IntArray) -> Evaluation:
    """``L(u)`` over ``arcs`` (integer ``cost`` as the gain), exactly."""
    reduced = arcs.cost - u[arcs.rows]
    m = capacity.size
    items = reduce_items(arcs.cols, arcs.load, reduced, capacity)
    knapsacks = solve_knapsacks(pack(arcs.cols, arcs.load, reduced, items, m), capacity)
    count = np.bincount(arcs.rows[knapsacks.taken], minlength=u.size).astype(np.int64)
    return Evaluation(float(u.sum() + knapsacks.value.sum()), u, knapsacks, reduced, count)


def proven(value: float) -> int:
    """The integer bound a float ``L`` proves (rounded down, allowing for float noise)."""
    return math.floor(value + TOLERANCE * max(1.0, abs(value)))


def step(ev: Evaluation, target: float, theta: float) -> FloatArray:
    """Projected Polyak subgradient step towards ``target`` (the incumbent's gain)."""
    g = 1.0 - ev.count  # dL/du
    g[(ev.u <= 0) & (g > 0)] = 0.0  # would push below 0: projected away, and out of the norm
    norm = float(g @ g)
    if norm == 0.0:
        return ev.u
    t = theta * max(ev.value - target, 1e-9 * max(1.0, abs(ev.value))) / norm
    return np.maximum(ev.u - t * g, 0.0)


def forced_bound(ev: Evaluation, arcs: Arcs, capacity: IntArray) -> FloatArray:
    """Per arc: ``L`` with that arc forced into its peer's knapsack (an upper bound of it)."""
    table = ev.knapsacks.table
    room = np.minimum(capacity[arcs.cols], table.shape[1] - 1) - arcs.load
    rest = table[arcs.cols, np.maximum(room, 0)]
    forced = np.where(room >= 0, ev.reduced + rest, -np.inf)
    return ev.value - ev.knapsacks.value[arcs.cols] + forced


def reach(ev: Evaluation, arcs: Arcs, capacity: IntArray) -> IntArray:
    """Per arc, the most (integer gain) a solution using it can gain."""
    bound = forced_bound(ev, arcs, capacity)
    noise = TOLERANCE * max(1.0, abs(ev.value))
    return np.floor(np.maximum(bound + noise, -1.0)).astype(np.int64)


def fixable(ev: Evaluation, arcs: Arcs, capacity: IntArray, incumbent: int) -> NDArray[np.bool_]:
    """Arcs in no solution gaining at least ``incumbent`` (safe to drop: none is in an optimal solution
    better than the incumbent, and the incumbent itself stays reachable through its own arcs)."""
    return reach(ev, arcs, capacity) < incumbent
