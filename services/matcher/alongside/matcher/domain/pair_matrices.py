"""Feasibility and fit for many requests at once, the batch solver's input.

Row ``r`` is request ``r``, column ``j`` is ``index.peer_ids[j]``. ``fit`` is
the soft score (no urgency or time waited: the batch engine adds those) and
0 where the pair is infeasible. Capacity here is the single-pair check
(free units >= acuity); sharing capacity between requests is the solver's job.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from alongside.matcher.domain.availability import BoolArray
from alongside.matcher.domain.feasibility import feasible
from alongside.matcher.domain.model import MatchRequest
from alongside.matcher.domain.programme_policy import DEFAULT_POLICY, ProgrammePolicy
from alongside.matcher.domain.query import compile_query
from alongside.matcher.domain.roster_index import DEFAULT_HORIZON, RosterIndex
from alongside.matcher.domain.scoring import FloatArray, score
from alongside.matcher.domain.tag_matrix import IntArray
from alongside.matcher.domain.weights import Weights


@dataclass(frozen=True)
class PairMatrices:
    """(n_requests x n_peers) feasibility and fit, with the ids of both axes."""

    request_ids: tuple[str, ...]
    peer_ids: tuple[str, ...]
    feasible: BoolArray
    fit: FloatArray


def pair_matrices(
    index: RosterIndex,
    requests: Sequence[MatchRequest],
    *,
    weights: Weights,
    now: datetime,
    declined: Mapping[str, frozenset[str]] | None = None,
    loads: IntArray | None = None,
    policy: ProgrammePolicy = DEFAULT_POLICY,
    horizon: timedelta = DEFAULT_HORIZON,
) -> PairMatrices:
    """Build both matrices; ``declined`` maps a request id to peers it declined."""
    shape = (len(requests), len(index))
    ok = np.zeros(shape, dtype=np.bool_)
    fit = np.zeros(shape, dtype=np.float64)
    for r, request in enumerate(requests):
        gone = (declined or {}).get(request.request_id, frozenset())
        q = compile_query(index, request, now=now, declined=gone, loads=loads, policy=policy, horizon=horizon)
        ok[r] = feasible(index, q)
        total, _ = score(index, q, weights)
        fit[r] = np.where(ok[r], total, 0.0)
    return PairMatrices(tuple(r.request_id for r in requests), index.peer_ids, ok, fit)
