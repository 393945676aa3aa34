"""Random batch-matching instances shared by the batch benchmarks.

Every instance: capacities 1-5 participants per peer, about 30 % of pairs
infeasible, a fifth of the participants urgent. Profit is fit plus priority
(urgency and time waited), scaled to 0-100.

- ``contended``: fit is half a shared peer quality and half a random pair
  term, so everyone wants the same popular peers.
- ``uncontended``: fit is an independent random pair score.
- ``gap``: as above, with a load of 1-3 acuity units that depends on the
  pair and capacities doubled (so about as many participants fit).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from alongside.matcher.domain.solver import BatchProblem, SideConstraints

ROOT = Path(__file__).resolve().parents[1]

INFEASIBLE = 0.3
URGENT = 0.2


def _fit(rng: np.random.Generator, n: int, m: int, contended: bool) -> NDArray[np.float64]:
    pair = rng.random((n, m))
    if not contended:
        return pair
    quality = rng.random(m)
    return 0.5 * quality[None, :] + 0.5 * pair


def assignment_instance(n: int, m: int, *, contended: bool, seed: int) -> BatchProblem:
    """Unit load: the pure capacity-constrained assignment (a min-cost flow)."""
    rng = np.random.default_rng(seed)
    urgent = rng.random(n) < URGENT
    waited = rng.random(n)
    priority = 0.3 * urgent + 0.2 * waited
    profit = 100.0 * (0.5 * _fit(rng, n, m, contended) + 0.5 * priority[:, None])
    feasible = rng.random((n, m)) >= INFEASIBLE
    return BatchProblem(
        profit=profit,
        feasible=feasible,
        load=np.ones(n, dtype=np.int64),
        capacity=rng.integers(1, 6, m).astype(np.int64),
        unmatched_penalty=np.where(urgent, 40.0, 10.0) + 10.0 * waited,
    )


def youth_instance(n: int, m: int, *, contended: bool, seed: int, cap: int = 2) -> BatchProblem:
    """Unit load plus a per-peer cap on youth participants and min-max utilisation."""
    base = assignment_instance(n, m, contended=contended, seed=seed)
    rng = np.random.default_rng(seed + 7919)
    side = SideConstraints(
        category=rng.random(n) < 0.3,
        category_cap=np.full(m, cap, dtype=np.int64),
        fairness="minmax",
    )
    return BatchProblem(base.profit, base.feasible, base.load, base.capacity, base.unmatched_penalty, side)


def gap_instance(n: int, m: int, *, contended: bool, seed: int) -> BatchProblem:
    """Pair-dependent acuity load (1-3 units), capacity scaled to match."""
    base = assignment_instance(n, m, contended=contended, seed=seed)
    rng = np.random.default_rng(seed + 104729)
    load = rng.integers(1, 4, (n, m)).astype(np.int64)
    return BatchProblem(base.profit, base.feasible, load, 2 * base.capacity, base.unmatched_penalty)
