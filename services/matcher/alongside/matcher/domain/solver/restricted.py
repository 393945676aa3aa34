"""The restricted master as an integer program: the best assignment made of the dual's packings.

Column generation (``colgen.py``) leaves a few thousand packings (a peer
and participants that fit its capacity), those the knapsack dual found
worth pricing. Choosing at most one packing per peer, with each participant
in at most one chosen packing, is a set packing whose LP relaxation is the
master, so its bound is the Lagrangian dual itself: CP-SAT solves it to
optimality in about a CPU-second at 300 peers x 500 participants, where on
every pair it does not get near. The incumbent's own packings are added,
so the answer is never worse than the incumbent; a better one refixes
(``tighten.refix``). A heuristic only: the best over these packings need
not be the optimum, and its bound is never reported.

Packings respect capacity alone, so problems with intake or category caps
skip this step.
"""

from __future__ import annotations

import numpy as np
from ortools.sat.python import cp_model

from alongside.matcher.domain.solver.arcs import NO_LIMIT, IntArray, Limits
from alongside.matcher.domain.solver.colgen import Packings
from alongside.matcher.domain.solver.cpsat import WORKERS
from alongside.matcher.domain.solver.gains import Gains
from alongside.matcher.domain.solver.tighten import Tightened, refix

SHARE = 0.35  # of what is left after the knapsack phase, at most: it usually proves its optimum sooner
MIN_SECONDS = 0.2


def improve(kept: Tightened, gains: Gains, limits: Limits, seconds: float, seed: int) -> Tightened:
    """``kept`` with the best assignment over its packings and its incumbent's, if better; within ``seconds``."""
    packings = kept.packings
    if packings is None or kept.closed or seconds < MIN_SECONDS or _capped(limits):
        return kept
    generated = packings.size
    packings = _with_incumbent(packings, kept.assignment)  # repeats are harmless: at most one per peer
    if packings.size == 0:
        return kept
    each = np.repeat(packings.peer, np.diff(packings.start))
    value = np.add.reduceat(gains.pair_cost(packings.rows, each), packings.start[:-1])
    model = _model(packings, value, generated)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = seconds
    solver.parameters.num_workers = WORKERS
    solver.parameters.random_seed = seed
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return kept
    chosen = np.flatnonzero(np.asarray(solver.response_proto.solution, dtype=np.int64)[: packings.size] > 0)
    assignment = np.full(kept.assignment.size, -1, dtype=np.int64)
    for k in chosen.tolist():
        assignment[packings.rows[packings.start[k] : packings.start[k + 1]]] = packings.peer[k]
    if int(value[chosen].sum()) <= _cost(gains, kept.assignment):
        return kept
    return refix(kept, assignment, gains)


def _capped(limits: Limits) -> bool:
    return bool((limits.intake < NO_LIMIT).any() or (limits.category_cap < NO_LIMIT).any())


def _with_incumbent(packings: Packings, assignment: IntArray) -> Packings:
    """``packings`` and the incumbent's (one per peer it uses; duplicates are harmless)."""
    rows = np.flatnonzero(assignment >= 0)
    rows = rows[np.argsort(assignment[rows], kind="stable")]
    peers = assignment[rows]
    cuts = np.r_[0, np.flatnonzero(np.diff(peers)) + 1, rows.size] if rows.size else np.zeros(1, dtype=np.int64)
    start = np.r_[packings.start, packings.start[-1] + cuts[1:]].astype(np.int64)
    return Packings(np.r_[packings.rows, rows], start, np.r_[packings.peer, peers[cuts[:-1]]].astype(np.int64))


def _model(packings: Packings, value: IntArray, generated: int) -> cp_model.CpModel:
    """One Boolean per packing; at most one per participant and per peer; maximise the gain. Hinted with
    the incumbent's packings, those after the first ``generated``."""
    model = cp_model.CpModel()
    proto = model.proto
    k = packings.size
    proto.merge_text_format("variables { domain: [0, 1] } " * k)
    owner = np.repeat(np.arange(k), np.diff(packings.start))
    for keys, members in ((packings.rows, owner), (packings.peer, np.arange(k))):
        order = np.argsort(keys, kind="stable")
        cuts = np.flatnonzero(np.diff(keys[order])) + 1
        for group in np.split(members[order], cuts):
            if group.size > 1:
                proto.constraints.add().at_most_one.literals.extend(group.tolist())
    proto.objective.vars.extend(range(k))
    proto.objective.coeffs.extend((-value).tolist())
    proto.objective.scaling_factor = -1.0
    proto.solution_hint.vars.extend(range(k))
    proto.solution_hint.values.extend([0] * generated + [1] * (k - generated))
    return model


def _cost(gains: Gains, assignment: IntArray) -> int:
    rows = np.flatnonzero(assignment >= 0)
    return int(gains.pair_cost(rows, assignment[rows]).sum())
