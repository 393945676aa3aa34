"""The shortlist's explanation for one chosen pair: why a batch proposal fits.

The batch solver picks pairs from ``pair_matrices``; review needs the same
plain-language reasons the shortlist gives its candidates, so the same
query, scoring and ``explain`` are run for the chosen peer only.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from alongside.matcher.domain.explain import explain
from alongside.matcher.domain.model import MatchRequest
from alongside.matcher.domain.programme_policy import DEFAULT_POLICY, ProgrammePolicy
from alongside.matcher.domain.query import compile_query
from alongside.matcher.domain.results import Contribution
from alongside.matcher.domain.roster_index import DEFAULT_HORIZON, RosterIndex
from alongside.matcher.domain.scoring import score
from alongside.matcher.domain.tag_matrix import IntArray
from alongside.matcher.domain.weights import Weights


def explain_pair(
    index: RosterIndex,
    request: MatchRequest,
    position: int,
    *,
    weights: Weights,
    now: datetime,
    declined: frozenset[str] = frozenset(),
    loads: IntArray | None = None,
    policy: ProgrammePolicy = DEFAULT_POLICY,
    horizon: timedelta = DEFAULT_HORIZON,
) -> tuple[Contribution, ...]:
    """The reasons ``index.peers[position]`` fits ``request``: requirements met, then points, most first."""
    q = compile_query(index, request, now=now, declined=declined, loads=loads, policy=policy, horizon=horizon)
    rows = np.array([position], dtype=np.intp)
    _, terms = score(index, q, weights, rows)
    return explain(index, q, weights, {c: term.tolist() for c, term in terms.items()}, [position])[0]
