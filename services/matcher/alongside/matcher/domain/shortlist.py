"""The online engine: filter and score the whole roster for one request.

``shortlist`` is vectorised over peers: the hard constraints are a handful of
array ANDs, the soft criteria a handful of array sums, and top-k uses a
partial sort. Only the k winners get explanations. When nobody fits, it
answers with the funnel and the constraint that emptied it, never with a
silent empty list.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt

from alongside.kit.errors import InvalidArgument
from alongside.matcher.domain.explain import explain
from alongside.matcher.domain.feasibility import feasible, funnel
from alongside.matcher.domain.model import MatchRequest
from alongside.matcher.domain.programme_policy import DEFAULT_POLICY, ProgrammePolicy
from alongside.matcher.domain.query import compile_query
from alongside.matcher.domain.reasons import waitlist_reason
from alongside.matcher.domain.results import Candidate, Shortlist
from alongside.matcher.domain.roster_index import DEFAULT_HORIZON, RosterIndex
from alongside.matcher.domain.scoring import FloatArray, score
from alongside.matcher.domain.tag_matrix import IntArray
from alongside.matcher.domain.weights import Weights

MAX_K = 100
# Up to this many scores, sorting them all beats the partial sort's extra passes.
FULL_SORT_LIMIT = 300
Positions = npt.NDArray[np.intp]


def shortlist(
    index: RosterIndex,
    request: MatchRequest,
    *,
    k: int,
    weights: Weights,
    now: datetime,
    declined: frozenset[str] = frozenset(),
    loads: IntArray | None = None,
    policy: ProgrammePolicy = DEFAULT_POLICY,
    horizon: timedelta = DEFAULT_HORIZON,
) -> Shortlist:
    """Up to ``k`` best feasible peers, best first, ties broken by peer id.

    ``request`` must have passed ``validate_request``. ``declined`` adds to
    the request's exclusions; ``loads`` (acuity units per index position,
    holds included) overrides the index's loads for this call; weekly
    availability must hold over ``horizon`` from today, clock changes included.
    """
    if not 1 <= k <= MAX_K:
        raise InvalidArgument("k", f"must be between 1 and {MAX_K}")
    q = compile_query(index, request, now=now, declined=declined, loads=loads, policy=policy, horizon=horizon)
    rows = np.flatnonzero(feasible(index, q))
    if rows.size == 0:
        return Shortlist((), waitlist_reason(funnel(index, q), q))
    total, terms = score(index, q, weights, rows)
    best = top_k(total, k)
    positions = rows[best].tolist()
    reasons = explain(index, q, weights, {c: term[best].tolist() for c, term in terms.items()}, positions)
    winners = zip(positions, total[best].tolist(), reasons, strict=True)
    return Shortlist(tuple(Candidate(index.peer_ids[p], points, why) for p, points, why in winners))


def top_k(scores: FloatArray, k: int) -> Positions:
    """Indices of the k best scores, best first; equal scores keep index order.

    Rows are in position order, which is peer id order, so ties break by id.
    For many scores a partial sort finds the k-th best score, and only the
    scores at or above it are sorted (stably, so ties at the cut are
    deterministic too); for a few hundred, one stable sort is cheaper.
    """
    if scores.size > max(k, FULL_SORT_LIMIT):
        kth = np.partition(scores, scores.size - k)[scores.size - k]
        contenders = np.flatnonzero(scores >= kth)
        order = np.argsort(-scores[contenders], kind="stable")[:k]
        return contenders[order]
    return np.argsort(-scores, kind="stable")[:k]
