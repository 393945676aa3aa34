"""Notes for the requirements a candidate meets.

A REQUIRED preference filters rather than scores, so every candidate meets
it; the note still tells the participant that it was honoured. Notes carry
no points (``max_points`` 0). A programme whose policy lets a peer type serve
an age band only with a certification gets a note saying so, first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from alongside.matcher.domain import labels
from alongside.matcher.domain.model import Modality, Peer, Preference
from alongside.matcher.domain.phrases import Arg, Phrase, english
from alongside.matcher.domain.query import Query
from alongside.matcher.domain.results import Contribution
from alongside.matcher.domain.weights import Criterion

Note = Callable[[Peer, Query, frozenset[str]], Phrase]
Requirements = tuple[tuple[Criterion, frozenset[str]], ...]


def required_notes(peer: Peer, q: Query, wanted: Requirements) -> tuple[Contribution, ...]:
    """One zero-point note per requirement (from ``requirements``) the peer met,
    after a note on the age rule when the peer serves this age only by a certification."""
    notes = [(criterion, _NOTES[criterion](peer, q, values)) for criterion, values in wanted]
    age = age_note(peer, q)
    if age is not None:
        notes.insert(0, (Criterion.AGE_RULES, age))
    return tuple(Contribution(criterion, 0.0, 0.0, english(note), note) for criterion, note in notes)


def age_note(peer: Peer, q: Query) -> Phrase | None:
    """Why a peer whose type serves this age only with a certification (by the
    programme's policy) may serve it; None when the type serves it anyway."""
    age = q.request.participant.age_band
    types = sorted(peer.types & q.request.peer_types)
    if any(q.policy.serves(t, age) for t in types):
        return None
    for peer_type in types:
        held = sorted(peer.certifications & q.policy.serves_with(peer_type, age))
        if held:
            args = (
                Arg("age", (age.value,), "age_band"),
                Arg("types", (peer_type.value,), "peer_type"),
                Arg("names", tuple(held), "text"),
            )
            return Phrase("Serves {age} as {types} holding {names}, as this programme allows", args)
    return None


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


def _names(name: str, values: Iterable[str], kind: str = "text", joiner: str = "and") -> tuple[Arg, ...]:
    return (Arg(name, tuple(values), kind, joiner),)


def _language(peer: Peer, q: Query, values: frozenset[str]) -> Phrase:
    spoken = sorted(peer.languages & values)
    return Phrase("Speaks {languages} (required language)", _names("languages", spoken, "language"))


def _gender(peer: Peer, q: Query, values: frozenset[str]) -> Phrase:
    return Phrase("Gender as required")


def _certification(peer: Peer, q: Query, values: frozenset[str]) -> Phrase:
    return Phrase("Holds {names} (required certification)", _names("names", sorted(peer.certifications & values)))


def _culture(peer: Peer, q: Query, values: frozenset[str]) -> Phrase:
    shared = (labels.tag(t) for t in sorted(peer.cultures & values))
    return Phrase("Shares cultural identity: {names} (required)", _names("names", shared))


def _lived_experience(peer: Peer, q: Query, values: frozenset[str]) -> Phrase:
    shared = (labels.lived_experience(t) for t in sorted(values))
    return Phrase("Shares lived experience: {names} (required)", _names("names", shared))


def _pathway(peer: Peer, q: Query, values: frozenset[str]) -> Phrase:
    known = (labels.pathway(p) for p in sorted(peer.pathways & values))
    return Phrase("Familiar with {names} (required)", _names("names", known))


def _service_area(peer: Peer, q: Query, values: frozenset[str]) -> Phrase:
    return Phrase("Works in {area} (required service area)", _names("area", (labels.tag(peer.service_area),)))


def _modality(peer: Peer, q: Query, values: frozenset[str]) -> Phrase:
    area = q.request.participant.service_area
    offered = [
        Modality(m).value
        for m in sorted(values)
        if m in peer.modalities and (m != Modality.IN_PERSON or (area and peer.service_area == area))
    ]
    return Phrase("Can meet {ways} (required)", _names("ways", offered, "modality", "or"))


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
