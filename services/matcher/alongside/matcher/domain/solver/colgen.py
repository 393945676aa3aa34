"""The knapsack Lagrangian dual, exactly: column generation with a GLOP master.

The best bound ``min_u L(u)`` of ``kbound.py`` is the optimum of the LP
(Dantzig-Wolfe master) over knapsack packings, one convex combination per
peer:

    max  sum_c gain(c) x_c
    s.t. sum_{c holds i} x_c <= 1    for each participant i   (dual u[i] >= 0)
         sum_{c of peer j} x_c <= 1  for each peer j          (dual v[j] >= 0)
         x >= 0

over a growing set of columns ``c`` (a peer and a packing within its
capacity). Its duals ``u`` price the next columns: the knapsacks of
``L(u)`` (``kbound.evaluate``) are exactly the columns of highest reduced
gain, and ``L(u)`` itself is a valid bound at every step, whatever ``u``
is (weak duality), so the search is anytime: the best evaluation so far is
the bound, the master's value a lower estimate of the dual, and both meet
at the optimum. Prices are smoothed towards the best multipliers so far
(Wentges), which keeps early masters with few columns from sending ``u``
far off; each round also prices at the master's own duals, which settles
convergence (when they price out no column, ``L`` there equals the
master's value).

The subgradient search (``knapsack_lagrange.py``) stops anywhere within a
few tenths of a percent of this dual as its step shrinks; the master
reaches it in a few tens of rounds (a few tenths of a CPU-second at 300
peers x 500 participants), warm-started with the subgradient's best
multipliers and the packings of its best evaluation and of the incumbent.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from ortools.linear_solver import pywraplp

from alongside.matcher.domain.solver.arcs import Arcs, IntArray
from alongside.matcher.domain.solver.kbound import Evaluation, evaluate, proven

SMOOTHING = 0.8  # weight of the best multipliers in the pricing point
MAX_ROUNDS = 200
REPORT_EVERY_S = 0.2
# Presolve costs more than it saves on these small masters, solved again after every round.
GLOP_PARAMETERS = "use_preprocessing: false"


@dataclass(frozen=True)
class Packings:
    """Columns as pairs: packing ``k`` is participants ``rows[start[k]:start[k + 1]]`` with peer ``peer[k]``."""

    rows: IntArray
    start: IntArray
    peer: IntArray

    @property
    def size(self) -> int:
        return int(self.peer.size)

    @staticmethod
    def of(arcs: Arcs, columns: list[IntArray]) -> Packings:
        """Packings given as arc indices into ``arcs`` (one peer each)."""
        sizes = np.array([c.size for c in columns], dtype=np.int64)
        start = np.r_[0, np.cumsum(sizes)].astype(np.int64)
        index = np.concatenate(columns) if columns else np.zeros(0, dtype=np.int64)
        peer = arcs.cols[index[start[:-1]]] if columns else np.zeros(0, dtype=np.int64)
        return Packings(arcs.rows[index], start, peer)

    def joined(self, assignments: list[IntArray]) -> Packings:
        """These packings and those of ``assignments`` (each peer's participants in each), without repeats."""
        seen = {(int(self.peer[k]), *self.rows[self.start[k] : self.start[k + 1]].tolist()) for k in range(self.size)}
        rows, sizes, peers = [self.rows], [np.diff(self.start)], [self.peer]
        for assignment in assignments:
            matched = np.flatnonzero(assignment >= 0)
            matched = matched[np.argsort(assignment[matched], kind="stable")]
            for group in np.split(matched, np.flatnonzero(np.diff(assignment[matched])) + 1):
                key = (int(assignment[group[0]]), *group.tolist()) if group.size else None
                if key is None or key in seen:
                    continue
                seen.add(key)
                rows.append(group)
                sizes.append(np.array([group.size]))
                peers.append(np.array([key[0]]))
        start = np.r_[0, np.cumsum(np.concatenate(sizes))].astype(np.int64)
        return Packings(np.concatenate(rows).astype(np.int64), start, np.concatenate(peers).astype(np.int64))


@dataclass(frozen=True)
class Dual:
    """The best evaluation (its ``value`` is the bound), the last master's value (a lower estimate of the
    dual), the packings generated (arc indices per column, and each column's peer), and the rounds run."""

    best: Evaluation
    master: float
    columns: list[IntArray]
    peers: IntArray
    rounds: int


class _Master:
    """The restricted master LP; columns are packings (arc indices into ``arcs``) of one peer each."""

    def __init__(self, arcs: Arcs, n: int, m: int) -> None:
        self.arcs = arcs
        self.solver = pywraplp.Solver.CreateSolver("GLOP")
        self.solver.SetSolverSpecificParametersAsString(GLOP_PARAMETERS)
        inf = self.solver.infinity()
        self.rows = [self.solver.Constraint(-inf, 1.0) for _ in range(n)]
        self.peers = [self.solver.Constraint(-inf, 1.0) for _ in range(m)]
        self.objective = self.solver.Objective()
        self.objective.SetMaximization()
        self.seen: set[tuple[int, ...]] = set()
        self.columns: list[IntArray] = []
        self.owner: list[int] = []

    def add(self, taken: IntArray) -> int:
        """Add the packings in ``taken`` (arc indices, any peers) not seen yet; how many were new."""
        if taken.size == 0:
            return 0
        arcs = self.arcs
        taken = np.sort(taken)
        taken = taken[np.argsort(arcs.cols[taken], kind="stable")]
        cuts = np.flatnonzero(np.diff(arcs.cols[taken])) + 1
        added = 0
        for packing in np.split(taken, cuts):
            key = tuple(packing.tolist())
            if key in self.seen:
                continue
            self.seen.add(key)
            x = self.solver.NumVar(0.0, self.solver.infinity(), "")
            self.objective.SetCoefficient(x, float(arcs.cost[packing].sum()))
            peer = int(arcs.cols[packing[0]])
            self.peers[peer].SetCoefficient(x, 1.0)
            for i in arcs.rows[packing].tolist():
                self.rows[i].SetCoefficient(x, 1.0)
            self.columns.append(packing)
            self.owner.append(peer)
            added += 1
        return added

    def solve(self, deadline: float) -> tuple[float, np.typing.NDArray[np.float64]] | None:
        """The master's value and its row duals (clipped at 0), or ``None`` if GLOP failed or ran out of
        time: one solve is native code, so it gets a time limit of its own, up to ``deadline``."""
        left = deadline - time.perf_counter()
        if left < math.inf:
            self.solver.SetTimeLimit(max(1, int(left * 1000)))
        if self.solver.Solve() != pywraplp.Solver.OPTIMAL:
            return None
        u = np.array([c.dual_value() for c in self.rows], dtype=np.float64)
        return float(self.objective.Value()), np.maximum(u, 0.0)


def exact_dual(
    arcs: Arcs,
    capacity: IntArray,
    start: Evaluation,
    incumbent: IntArray,
    deadline: float,
    *,
    gain: int | None = None,
    on_bound: Callable[[float], None] | None = None,
) -> Dual:
    """Column generation from ``start`` (an evaluation over ``arcs``) and the packings of ``incumbent`` (an
    assignment), until the dual is reached, the bound proves ``gain`` optimal, or ``deadline`` (perf_counter).
    ``on_bound`` is told the best ``L`` so far, at most every ``REPORT_EVERY_S``."""
    n, m = start.u.size, capacity.size
    master = _Master(arcs, n, m)
    master.add(np.flatnonzero(incumbent[arcs.rows] == arcs.cols))
    master.add(start.knapsacks.taken)
    best, value, rounds, told = start, -np.inf, 0, time.perf_counter()
    while rounds < MAX_ROUNDS and time.perf_counter() < deadline:
        if gain is not None and proven(best.value) <= gain:
            break
        rounds += 1
        solved = master.solve(deadline)
        if solved is None:
            break
        value, u = solved
        if best.value - value <= 1e-9 * max(1.0, abs(value)):
            break
        added = 0
        for point in (SMOOTHING * best.u + (1.0 - SMOOTHING) * u, u):
            if time.perf_counter() >= deadline:
                break
            ev = evaluate(arcs, point, capacity)
            if ev.value < best.value:
                best = ev
            added += master.add(ev.knapsacks.taken)
        if added == 0:
            break
        if on_bound is not None and time.perf_counter() - told >= REPORT_EVERY_S:
            on_bound(best.value)
            told = time.perf_counter()
    return Dual(best, value, master.columns, np.array(master.owner, dtype=np.int64), rounds)
