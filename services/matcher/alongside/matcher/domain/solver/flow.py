"""Exact min-cost flow on pruned arcs, made safe by a dual bound over every arc.

Loop: solve on the candidate arcs; read slot prices off the potentials
(``certify.py``, ``prices.py``) and bound the best gain over *every* usable
arc with them (LP weak duality). A bound at most the flow's gain proves the
flow optimal for the full arc set and ends the loop. Otherwise add the arcs
that keep the bound up (at most ``ADD_K`` per participant, the worst first)
and solve again. After
``MAX_ROUNDS``, or if a bound above the gain comes with no arc to add, it
falls back to every arc, so the answer is always exact. Small problems skip
pruning.

Every price vector found is kept: it bounds the optimum at *any* slots
(``Prices.bound_at``), which lets the min-max search refute levels without
solving them and certify a repeated solve without recomputing potentials.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from alongside.matcher.domain.solver.certify import potentials
from alongside.matcher.domain.solver.gains import Gains
from alongside.matcher.domain.solver.network import FlowSolution, IntArray, Network, build_network, solve_network
from alongside.matcher.domain.solver.prices import NO_BOUND, Check, Prices, check
from alongside.matcher.domain.solver.problem import BatchProblem
from alongside.matcher.domain.solver.prune import ADD_K, DEFAULT_K, start_mask

PRUNE_ABOVE = 300_000
MAX_ROUNDS = 30
_KEEP = 4  # slot vectors whose last solve is remembered (the oldest is dropped first)

Enough = Callable[[int, int], bool]


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


@dataclass(frozen=True)
class Probe:
    """A flow for some slots and an upper bound on the best gain there over every usable arc."""

    solution: FlowSolution
    bound: int

    @property
    def gain(self) -> int:
        return self.solution.total_cost

    @property
    def optimal(self) -> bool:
        return self.bound <= self.gain


@dataclass
class _Solved:
    net: Network
    solution: FlowSolution
    version: int
    check: Check | None = None


class FlowSolver:
    """Solves the batch flow for a sequence of slot vectors, keeping learnt arcs and prices."""

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
        self.pruned = bool(np.count_nonzero(gains.usable) > prune_above)
        self.started_pruned = self.pruned
        self.mask = start_mask(gains.cost, gains.usable, k) if self.pruned else gains.usable
        self.rounds = 0
        self.prices: list[Prices] = []
        self._version = 0
        self._solved: dict[bytes, _Solved] = {}

    def solve(self, slots: IntArray) -> FlowSolution:
        """The optimum for these slots over the full arc set."""
        return self.search(slots).solution

    def search(self, slots: IntArray, enough: Enough | None = None) -> Probe:
        """Repair until the flow is proven optimal, or until ``enough(gain, bound)`` holds.

        The gain is that of the flow returned, the bound holds over every
        usable arc; a caller that only asks whether the optimum reaches some
        value stops as soon as either settles it.
        """
        for attempt in range(MAX_ROUNDS if self.pruned else 0):
            # A solve for these slots on fewer arcs is still a valid start: its bound covers every arc.
            done = self._solve_on(slots, stale_ok=attempt == 0)
            probe = Probe(done.solution, self.bound_at(slots))
            if probe.optimal or (enough is not None and enough(probe.gain, probe.bound)):
                return probe
            if done.check is None:
                done.check = check(done.net, potentials(done.net, done.solution), self.gains.cost, self.add_k)
                self.prices.append(done.check.prices)
                probe = Probe(done.solution, min(probe.bound, done.check.bound))
                if probe.optimal or (enough is not None and enough(probe.gain, probe.bound)):
                    return probe
            if not self._grow(done.check) and done.version == self._version:
                break  # nothing new to add to the arcs this flow was solved on
        if self.pruned:
            self.pruned, self.mask = False, self.gains.usable
            self._solved.clear()
        solution = self._solve_on(slots, stale_ok=False).solution
        return Probe(solution, solution.total_cost)

    def bound_at(self, slots: IntArray) -> int:
        """The best upper bound the prices found so far give at these slots."""
        return min((p.bound_at(slots) for p in self.prices), default=NO_BOUND)

    def _grow(self, found: Check) -> bool:
        """Add the arcs ``found`` asks for; False when none is new (then only every arc can help)."""
        new = self.gains.usable[found.rows, found.cols] & ~self.mask[found.rows, found.cols]
        if not new.any():
            return False
        self.mask[found.rows[new], found.cols[new]] = True
        self._version += 1
        return True

    def _solve_on(self, slots: IntArray, *, stale_ok: bool) -> _Solved:
        key = slots.tobytes()
        done = self._solved.get(key)
        if done is not None and (stale_ok or done.version == self._version):
            return done
        self.rounds += 1
        # Flat indices are several times faster to find than (row, col) pairs, and still row-major.
        flat = np.flatnonzero(self.mask)
        rows, cols = np.divmod(flat, max(self.problem.m, 1))
        cost = self.gains.cost.ravel()[flat].astype(np.int64)
        net = build_network(self.problem, rows, cols, cost, slots)
        done = _Solved(net, solve_network(net), self._version)
        self._solved.pop(key, None)
        self._solved[key] = done
        while len(self._solved) > _KEEP:
            self._solved.pop(next(iter(self._solved)))
        return done
