"""Plain-language contributions for a candidate, built for the top k only.

Each applicable soft criterion gives one line with its points, including
criteria the candidate does not meet (shown with +0.0), so the participant
sees what was weighed. Met requirements come first, from ``explain_required``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from operator import attrgetter

from alongside.matcher.domain import labels
from alongside.matcher.domain.availability import SLOT_MINUTES
from alongside.matcher.domain.explain_required import required_notes, requirements
from alongside.matcher.domain.model import Modality, Peer, Preference
from alongside.matcher.domain.query import Query
from alongside.matcher.domain.results import Contribution
from alongside.matcher.domain.roster_index import RosterIndex
from alongside.matcher.domain.weights import Criterion, Weights

Text = Callable[[RosterIndex, Query, int], str]


def explain(
    ix: RosterIndex,
    q: Query,
    weights: Weights,
    terms: Mapping[Criterion, Sequence[float]],
    positions: Sequence[int],
) -> list[tuple[Contribution, ...]]:
    """The reasons for each candidate: requirements met, then points, most first.

    ``terms`` holds each applicable criterion's values, one per candidate in
    ``positions`` order. What depends only on the request is worked out once.
    """
    weighed = [(criterion, weights.of(criterion), values, _TEXTS[criterion]) for criterion, values in terms.items()]
    wanted = requirements(q)
    reasons = []
    for j, position in enumerate(positions):
        scored = [
            Contribution(criterion, weight * values[j], weight, text(ix, q, position))
            for criterion, weight, values, text in weighed
        ]
        scored.sort(key=_points, reverse=True)  # stable: equal points keep criterion order
        reasons.append(required_notes(ix.peers[position], q, wanted) + tuple(scored))
    return reasons


_points = attrgetter("points")


def _values(pref: Preference | None) -> frozenset[str]:
    return frozenset() if pref is None else pref.values


def _language(ix: RosterIndex, q: Query, i: int) -> str:
    wanted = _values(q.weighted_language)
    spoken = [labels.language(c) for c in sorted(ix.peers[i].languages & wanted)]
    if q.interpreter:
        if spoken:
            return f"Speaks {labels.join(spoken)}, so no interpreter is needed"
        names = labels.join((labels.language(c) for c in sorted(wanted)), "or")
        return f"Does not speak {names}; an interpreter will be arranged"
    if spoken:
        return f"Speaks {labels.join(spoken)} (preferred language)"
    return "Does not speak a preferred language"


def _shared(peer_tags: frozenset[str], pref: Preference | None) -> tuple[list[str], int]:
    wanted = _values(pref)
    return sorted(peer_tags & wanted), len(wanted)


def _culture(ix: RosterIndex, q: Query, i: int) -> str:
    shared, asked = _shared(ix.peers[i].cultures, q.request.preferences.cultures)
    if not shared:
        return "Shares no preferred cultural identity"
    names = labels.join(labels.tag(t) for t in shared)
    if asked == 1:
        return f"Shares cultural identity: {names}"
    return f"Shares cultural identity: {len(shared)} of {asked} ({names})"


def _lived_experience(ix: RosterIndex, q: Query, i: int) -> str:
    shared, asked = _shared(ix.peers[i].lived_experience, q.request.preferences.lived_experience)
    if not shared:
        return "Shares none of the preferred lived-experience areas"
    names = labels.join(labels.lived_experience(t) for t in shared)
    if asked == 1:
        return f"Shares lived experience: {names}"
    return f"Shares lived experience: {len(shared)} of {asked} areas ({names})"


def _pathway(ix: RosterIndex, q: Query, i: int) -> str:
    known, asked = _shared(ix.peers[i].pathways, q.request.preferences.pathways)
    if not known:
        return "Not familiar with a preferred recovery pathway"
    names = labels.join(labels.pathway(p) for p in known)
    extra = f" ({len(known)} of {asked} pathways)" if asked > 1 else ""
    return f"Familiar with {names}{extra}"


def _gender(ix: RosterIndex, q: Query, i: int) -> str:
    if ix.peers[i].gender in _values(q.request.preferences.gender):
        return "Gender matches the preference"
    return "Gender differs from the preference"


def _continuity(ix: RosterIndex, q: Query, i: int) -> str:
    if ix.peer_ids[i] == q.request.previous_peer_id:
        return "Previous peer, so the relationship can continue"
    return "Not the previous peer"


def _availability(ix: RosterIndex, q: Query, i: int) -> str:
    slots = (q.week.bits[i] & q.mine.bits).bit_count()
    return f"Available together {labels.duration(slots * SLOT_MINUTES)} a week"


def _balance(ix: RosterIndex, q: Query, i: int) -> str:
    free = max(0, ix.peers[i].capacity - int(q.loads[i]))
    return f"Has capacity for {labels.plural(free, 'more caseload unit')} (balance)"


def _modality(ix: RosterIndex, q: Query, i: int) -> str:
    peer: Peer = ix.peers[i]
    area = q.request.participant.service_area
    offered = [
        labels.MODALITIES[Modality(m)]
        for m in sorted(_values(q.request.preferences.modalities))
        if m in peer.modalities and (m != Modality.IN_PERSON or (area and area == peer.service_area))
    ]
    if not offered:
        return "Does not offer a preferred way to meet"
    return f"Can meet {labels.join(offered, 'or')} (preferred)"


def _service_area(ix: RosterIndex, q: Query, i: int) -> str:
    if ix.peers[i].service_area in _values(q.request.preferences.service_area):
        return f"Works in {labels.tag(ix.peers[i].service_area)} (preferred service area)"
    return "Works outside the preferred service areas"


_TEXTS: dict[Criterion, Text] = {
    Criterion.LANGUAGE: _language,
    Criterion.CULTURE: _culture,
    Criterion.LIVED_EXPERIENCE: _lived_experience,
    Criterion.PATHWAY: _pathway,
    Criterion.GENDER: _gender,
    Criterion.CONTINUITY: _continuity,
    Criterion.AVAILABILITY: _availability,
    Criterion.CASELOAD_BALANCE: _balance,
    Criterion.MODALITY: _modality,
    Criterion.SERVICE_AREA: _service_area,
}
