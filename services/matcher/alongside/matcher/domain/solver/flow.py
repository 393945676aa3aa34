"""Exact min-cost flow on pruned arcs, made safe by the reduced-cost certificate.

Loop: solve on the candidate arcs; compute potentials; if some pruned-away
arc has negative reduced cost, add the worst ones (``prune.top_per_row``)
and solve again; otherwise the flow is optimal for the full arc set (see
``certify.py``). After ``MAX_ROUNDS`` it falls back to every arc, so the
answer is always exact. Small problems skip pruning.
"""

from __future__ import annotations

import numpy as np

from alongside.matcher.domain.solver.certify import dual_bound, potentials, violations
from alongside.matcher.domain.solver.gains import Gains
from alongside.matcher.domain.solver.network import (
    FlowSolution,
    IntArray,
    Network,
    build_network,
    solve_network,
)
from alongside.matcher.domain.solver.problem import BatchProblem
from alongside.matcher.domain.solver.prune import ADD_K, DEFAULT_K, start_mask, top_per_row

PRUNE_ABOVE = 300_000
MAX_ROUNDS = 30


def uniform_load(gains: Gains) -> int | None:
    """The common load of every usable pair, or None when loads differ (a GAP)."""
    per_row = gains.load.shape[1] == 1
    loads = gains.load[gains.usable.any(axis=1), 0] if per_row else gains.load[gains.usable]
    if loads.size == 0:
        return 1
    low = int(loads.min())
    return low if int(loads.max()) == low else None


def base_slots(problem: BatchProblem, unit: int) -> IntArray:
    """Participants each peer can take: capacity in whole loads, then the intake cap."""
    slots = problem.capacity.astype(np.int64) // unit
    if problem.side.intake_cap is not None:
        slots = np.minimum(slots, problem.side.intake_cap.astype(np.int64))
    return slots


class FlowSolver:
    """Solves the batch flow for a sequence of slot vectors, keeping learnt arcs."""

    def __init__(
        self,
        problem: BatchProblem,
        gains: Gains,
        *,
        k: int = DEFAULT_K,
        add_k: int = ADD_K,
        prune_above: int = PRUNE_ABOVE,
    ) -> None:
        self.problem = problem
        self.gains = gains
        self.add_k = add_k
        self.pruned = int(gains.usable.sum()) > prune_above
        self.started_pruned = self.pruned
        self.mask = start_mask(gains.cost, gains.usable, k) if self.pruned else gains.usable
        self.rounds = 0
        self._last: tuple[IntArray, Network, FlowSolution] | None = None

    def solve(self, slots: IntArray, *, accept_at: int | None = None) -> FlowSolution:
        """Exact optimum for these slots over the full arc set.

        With ``accept_at`` the caller only asks whether the optimum reaches
        it. A solution on the current arcs that does is returned as is (it
        proves "yes"); one that does not is returned as soon as the dual bound
        proves "no" (``certify.dual_bound``). Either may be suboptimal.
        """
        if self.pruned:
            for _ in range(MAX_ROUNDS):
                net, sol = self._solve_on(slots)
                if accept_at is not None and sol.total_cost >= accept_at:
                    return sol
                pot = potentials(net, sol)
                if accept_at is not None and dual_bound(net, pot, self.gains.cost) < accept_at:
                    return sol
                outside = self.gains.usable & ~self.mask
                bad, excess = violations(net, pot, self.gains.cost, outside)
                if not bad.any():
                    return sol
                self.mask = self.mask | top_per_row(bad, excess, self.add_k)
                self._last = None
            self.pruned, self.mask, self._last = False, self.gains.usable, None
        return self._solve_on(slots)[1]

    def _solve_on(self, slots: IntArray) -> tuple[Network, FlowSolution]:
        # Asking again for the same slots on the same arcs (a search's last probe) reuses the solve.
        if self._last is not None and np.array_equal(self._last[0], slots):
            return self._last[1], self._last[2]
        self.rounds += 1
        rows, cols = np.nonzero(self.mask)
        rows, cols = rows.astype(np.int64), cols.astype(np.int64)
        net = build_network(self.problem, rows, cols, self.gains.pair_cost(rows, cols), slots)
        sol = solve_network(net)
        self._last = (slots.copy(), net, sol)
        return net, sol
