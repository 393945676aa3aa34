"""Notes for the requirements a candidate meets.

A REQUIRED preference filters rather than scores, so every candidate meets
it; the note still tells the participant that it was honoured. Notes carry
no points (``max_points`` 0).
"""

from __future__ import annotations

from collections.abc import Callable

from alongside.matcher.domain import labels
from alongside.matcher.domain.model import Modality, Peer, Preference
from alongside.matcher.domain.query import Query
from alongside.matcher.domain.results import Contribution
from alongside.matcher.domain.weights import Criterion

Note = Callable[[Peer, Query, frozenset[str]], str]
Requirements = tuple[tuple[Criterion, frozenset[str]], ...]


def required_notes(peer: Peer, q: Query, wanted: Requirements) -> tuple[Contribution, ...]:
    """One zero-point note per requirement (from ``requirements``) the peer met."""
    return tuple(Contribution(criterion, 0.0, 0.0, _NOTES[criterion](peer, q, values)) for criterion, values in wanted)


def requirements(q: Query) -> Requirements:
    """The request's requirements, worked out once for all its candidates."""
    prefs = q.request.preferences
    wanted: list[tuple[Criterion, Preference | None]] = [
        (Criterion.LANGUAGE, q.required_language),
        (Criterion.GENDER, prefs.gender),
        (Criterion.CERTIFICATION, prefs.certifications),
        (Criterion.CULTURE, prefs.cultures),
        (Criterion.LIVED_EXPERIENCE, prefs.lived_experience),
        (Criterion.PATHWAY, prefs.pathways),
        (Criterion.SERVICE_AREA, prefs.service_area),
        (Criterion.MODALITY, prefs.modalities),
    ]
    return tuple((c, pref.values) for c, pref in wanted if pref is not None and pref.required)


def _language(peer: Peer, q: Query, values: frozenset[str]) -> str:
    spoken = labels.join(labels.language(c) for c in sorted(peer.languages & values))
    return f"Speaks {spoken} (required language)"


def _gender(peer: Peer, q: Query, values: frozenset[str]) -> str:
    return "Gender as required"


def _certification(peer: Peer, q: Query, values: frozenset[str]) -> str:
    return f"Holds {labels.join(sorted(peer.certifications & values))} (required certification)"


def _culture(peer: Peer, q: Query, values: frozenset[str]) -> str:
    shared = labels.join(labels.tag(t) for t in sorted(peer.cultures & values))
    return f"Shares cultural identity: {shared} (required)"


def _lived_experience(peer: Peer, q: Query, values: frozenset[str]) -> str:
    shared = labels.join(labels.lived_experience(t) for t in sorted(values))
    return f"Shares lived experience: {shared} (required)"


def _pathway(peer: Peer, q: Query, values: frozenset[str]) -> str:
    known = labels.join(labels.pathway(p) for p in sorted(peer.pathways & values))
    return f"Familiar with {known} (required)"


def _service_area(peer: Peer, q: Query, values: frozenset[str]) -> str:
    return f"Works in {labels.tag(peer.service_area)} (required service area)"


def _modality(peer: Peer, q: Query, values: frozenset[str]) -> str:
    area = q.request.participant.service_area
    offered = [
        labels.MODALITIES[Modality(m)]
        for m in sorted(values)
        if m in peer.modalities and (m != Modality.IN_PERSON or (area and peer.service_area == area))
    ]
    return f"Can meet {labels.join(offered, 'or')} (required)"


_NOTES: dict[Criterion, Note] = {
    Criterion.LANGUAGE: _language,
    Criterion.GENDER: _gender,
    Criterion.CERTIFICATION: _certification,
    Criterion.CULTURE: _culture,
    Criterion.LIVED_EXPERIENCE: _lived_experience,
    Criterion.PATHWAY: _pathway,
    Criterion.SERVICE_AREA: _service_area,
    Criterion.MODALITY: _modality,
}
