"""The batch-matching problem and result, as plain arrays.

Rows are participants (``n``), columns are peers (``m``). Assigning
participant ``i`` to peer ``j`` earns ``profit[i, j]``; leaving ``i``
unmatched costs ``unmatched_penalty[i]``. The objective to maximise is

    sum(profit[i, a[i]] for matched i) - sum(unmatched_penalty[i] for unmatched i)

subject to the hard constraints folded into ``feasible`` and to each peer's
capacity in acuity units: ``sum(load[i, j] for i matched to j) <= capacity[j]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import NDArray

Fairness = Literal["none", "minmax"]
FairnessMeasure = Literal["load", "utilisation"]


@dataclass(frozen=True)
class SideConstraints:
    """Optional constraints on top of capacity.

    ``intake_cap[j]``: at most this many participants of this batch go to
    peer ``j`` (every assignment made here is a new intake).

    ``category[i]`` marks participants of one category (for example youth);
    ``category_cap[j]`` bounds how many of them peer ``j`` receives. Both are
    given or neither.

    ``fairness="minmax"`` spreads new load: among the solutions whose
    objective is within ``fairness_tolerance`` of the best, take one whose
    largest per-peer measure is as small as possible, and the best objective
    at that level. The measure is the acuity load a peer receives in this
    batch (``fairness_measure="load"``) or that load over the capacity it
    offered (``"utilisation"``). The tolerance is a fraction of the best
    total gain (see ``fairness.py``); 0 keeps the optimum and only breaks
    ties. Exact when the problem is a flow, best effort under CP-SAT.
    """

    intake_cap: NDArray[np.int64] | None = None
    category: NDArray[np.bool_] | None = None
    category_cap: NDArray[np.int64] | None = None
    fairness: Fairness = "none"
    fairness_measure: FairnessMeasure = "load"
    fairness_tolerance: float = 0.01


@dataclass(frozen=True)
class BatchProblem:
    """Inputs of one batch match; see the module docstring for the objective.

    ``load`` is ``(n,)`` (acuity of the participant) or ``(n, m)`` (it may
    depend on the peer); it is only read where ``feasible`` is true, and must
    be at least 1 there. ``profit`` must be finite where ``feasible`` is true
    (elsewhere it may be ``-inf`` as a marker); NaN is rejected anywhere.
    """

    profit: NDArray[np.float64]
    feasible: NDArray[np.bool_]
    load: NDArray[np.int64]
    capacity: NDArray[np.int64]
    unmatched_penalty: NDArray[np.float64]
    side: SideConstraints = field(default_factory=SideConstraints)

    @property
    def n(self) -> int:
        return int(self.profit.shape[0])

    @property
    def m(self) -> int:
        return int(self.profit.shape[1])


@dataclass(frozen=True)
class BatchResult:
    """An assignment and how good it is known to be.

    ``assignment[i]`` is a peer index or -1 (unmatched). ``objective`` is
    recomputed from it in the caller's units. ``bound`` is a proven upper
    bound on the objective of the full problem (never a bound on a pruned
    sub-model); ``bound_source`` says where it comes from: ``"optimal"``
    (the solution is proven optimal), ``"lagrangian"`` (``bounds.py``) or
    ``"cpsat"`` (CP-SAT's bound on the arcs kept by reduced-cost fixing,
    ``gap.py``). ``gap`` is ``(bound - objective) / max(1, |bound|)``, 0 when
    ``status`` is ``"OPTIMAL"``. Optimality is proven for the gains rounded
    to the integer scale described in ``gains.py``.

    ``status``: ``"OPTIMAL"`` or ``"FEASIBLE"``. ``"INFEASIBLE"`` is part of
    the contract but never returned today: leaving everyone unmatched is
    always allowed. ``engine``: ``"none"`` (no pair worth making), ``"flow"``
    or ``"cpsat"``, with ``"+minmax"`` for fairness and ``"+pruned"`` when
    the flow ran on pruned arcs (still exact) or CP-SAT on a cut model (its
    bound then unused).
    """

    assignment: NDArray[np.int64]
    objective: float
    bound: float
    gap: float
    status: str
    engine: str
    seconds: float
    bound_source: str = "optimal"


def relative_gap(objective: float, bound: float) -> float:
    """The reported gap; clipped at 0 against float noise."""
    return max(0.0, (bound - objective) / max(1.0, abs(bound)))
