"""Soft criteria: a weighted score over feasible peers, each term explainable.

Each criterion is one function ``(index, query, rows) -> terms`` giving each
peer in ``rows`` (every peer when ``None``) a value in [0, 1], or ``None``
when the request does not ask for it. The online engine scores only the
feasible rows; the batch matrices score everyone. A REQUIRED
preference is a hard constraint (see ``constraints``) and scores nothing
here; only PREFERRED ones weigh. The score is the sum of ``weight * term``
in ``SOFT_CRITERIA`` order. Urgency and time waited are added by the batch
engine, not here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, cast

import numpy as np
import numpy.typing as npt

from alongside.matcher.domain.constraints import offers_modalities
from alongside.matcher.domain.model import Preference
from alongside.matcher.domain.query import Query
from alongside.matcher.domain.roster_index import RosterIndex
from alongside.matcher.domain.tag_matrix import TagMatrix
from alongside.matcher.domain.weights import Criterion, Weights

FloatArray = npt.NDArray[np.float64]
Positions = npt.NDArray[np.intp]
A = TypeVar("A", bound=npt.NDArray[np.generic])
Rows = Positions | None  # the peers to score: index positions, or None for all
Term = Callable[[RosterIndex, Query, Rows], FloatArray | None]


def _preferred(pref: Preference | None) -> Preference | None:
    return pref if pref is not None and pref.preferred else None


def _at(values: A, rows: Rows) -> A:
    return values if rows is None else cast(A, values[rows])


def _any(tags: TagMatrix, pref: Preference | None, rows: Rows) -> FloatArray | None:
    return None if pref is None else _at(tags.any_of(pref.values), rows).astype(np.float64)


def _share(tags: TagMatrix, pref: Preference | None, rows: Rows) -> FloatArray | None:
    return None if pref is None else _at(tags.count_of(pref.values), rows) / len(pref.values)


def language_term(ix: RosterIndex, q: Query, rows: Rows) -> FloatArray | None:
    """1 if the peer speaks a preferred language (or a required one, with an interpreter)."""
    return _any(ix.languages, q.weighted_language, rows)


def culture_term(ix: RosterIndex, q: Query, rows: Rows) -> FloatArray | None:
    """Fraction of the preferred cultural identities the peer shares."""
    return _share(ix.cultures, _preferred(q.request.preferences.cultures), rows)


def lived_experience_term(ix: RosterIndex, q: Query, rows: Rows) -> FloatArray | None:
    """Fraction of the preferred lived-experience areas the peer shares."""
    return _share(ix.lived_experience, _preferred(q.request.preferences.lived_experience), rows)


def pathway_term(ix: RosterIndex, q: Query, rows: Rows) -> FloatArray | None:
    """Fraction of the preferred recovery pathways the peer is familiar with."""
    return _share(ix.pathways, _preferred(q.request.preferences.pathways), rows)


def gender_term(ix: RosterIndex, q: Query, rows: Rows) -> FloatArray | None:
    """1 if the peer's gender is one the participant prefers."""
    return _any(ix.genders, _preferred(q.request.preferences.gender), rows)


def continuity_term(ix: RosterIndex, q: Query, rows: Rows) -> FloatArray | None:
    """1 for the participant's previous peer, so a known relationship can go on."""
    position = ix.positions.get(q.request.previous_peer_id)
    if position is None:
        return None
    if rows is None:
        term = np.zeros(len(ix), dtype=np.float64)
        term[position] = 1.0
        return term
    return cast(FloatArray, (rows == position).astype(np.float64))


def availability_term(ix: RosterIndex, q: Query, rows: Rows) -> FloatArray | None:
    """Share of the participant's weekly free time the peer is free too, in the leanest week of the horizon."""
    if q.mine.free_slots == 0:
        return np.zeros(len(ix) if rows is None else rows.size, dtype=np.float64)
    least: npt.NDArray[np.int64] | None = None
    for stretch, mine in zip(q.stretches, q.mines, strict=True):
        used, words = mine.used, stretch.week.words
        peers = words[used] if rows is None else words[used[:, None], rows]
        shared = np.bitwise_count(peers & mine.words).sum(axis=0, dtype=np.int64)
        least = shared if least is None else np.minimum(least, shared, out=least)
    assert least is not None  # an engagement has at least one stretch
    return least / q.mine.free_slots


def caseload_balance_term(ix: RosterIndex, q: Query, rows: Rows) -> FloatArray | None:
    """Free fraction of the peer's capacity, so work spreads across the team."""
    # A zero capacity divides by 1 instead: its free units are <= 0, so it clips to 0.
    share = _at(q.free, rows) / _at(ix.capacity_divisor, rows)
    np.maximum(share, 0.0, out=share)
    return np.minimum(share, 1.0, out=share)


def modality_term(ix: RosterIndex, q: Query, rows: Rows) -> FloatArray | None:
    """1 if the peer offers a preferred way to meet (in person only nearby)."""
    pref = _preferred(q.request.preferences.modalities)
    if pref is None:
        return None
    offered = offers_modalities(ix, pref.values, q.request.participant.service_area)
    return _at(offered, rows).astype(np.float64)


def service_area_term(ix: RosterIndex, q: Query, rows: Rows) -> FloatArray | None:
    """1 if the peer works in a preferred service area."""
    return _any(ix.service_areas, _preferred(q.request.preferences.service_area), rows)


def certification_term(ix: RosterIndex, q: Query, rows: Rows) -> FloatArray | None:
    """1 if the peer holds a preferred certification (where the programme lets one be preferred)."""
    return _any(ix.certifications, _preferred(q.request.preferences.certifications), rows)


# Certification comes last: it applies only under a policy that lets it be
# preferred, and appending keeps every other sum's order, so its float value.
SOFT_CRITERIA: tuple[tuple[Criterion, Term], ...] = (
    (Criterion.LANGUAGE, language_term),
    (Criterion.CULTURE, culture_term),
    (Criterion.LIVED_EXPERIENCE, lived_experience_term),
    (Criterion.PATHWAY, pathway_term),
    (Criterion.GENDER, gender_term),
    (Criterion.CONTINUITY, continuity_term),
    (Criterion.AVAILABILITY, availability_term),
    (Criterion.CASELOAD_BALANCE, caseload_balance_term),
    (Criterion.MODALITY, modality_term),
    (Criterion.SERVICE_AREA, service_area_term),
    (Criterion.CERTIFICATION, certification_term),
)


def score(
    ix: RosterIndex, q: Query, weights: Weights, rows: Rows = None
) -> tuple[FloatArray, dict[Criterion, FloatArray]]:
    """Scores of ``rows`` (all peers if None), and the applicable terms behind them."""
    total = np.zeros(len(ix) if rows is None else rows.size, dtype=np.float64)
    terms: dict[Criterion, FloatArray] = {}
    for criterion, term_of in SOFT_CRITERIA:
        term = term_of(ix, q, rows)
        if term is not None:
            terms[criterion] = term
            total += weights.of(criterion) * term
    return total, terms
