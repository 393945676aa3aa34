"""Plain-language contributions for a candidate, built for the top k only.

Each applicable soft criterion gives one line with its points, including
criteria the candidate does not meet (shown with +0.0), so the participant
sees what was weighed. Met requirements come first, from ``explain_required``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from operator import attrgetter
from zoneinfo import ZoneInfo

from alongside.kit.clock_changes import offset_changes
from alongside.matcher.domain import labels
from alongside.matcher.domain.availability import ONE_WEEK, SLOT_MINUTES
from alongside.matcher.domain.explain_required import required_notes, requirements
from alongside.matcher.domain.model import Modality, Peer, Preference
from alongside.matcher.domain.phrases import Arg, Phrase, english
from alongside.matcher.domain.query import Query
from alongside.matcher.domain.results import Contribution
from alongside.matcher.domain.roster_index import RosterIndex
from alongside.matcher.domain.weights import Criterion, Weights

Text = Callable[[RosterIndex, Query, int], Phrase]


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
            _said(criterion, weight * values[j], weight, text(ix, q, position))
            for criterion, weight, values, text in weighed
        ]
        scored.sort(key=_points, reverse=True)  # stable: equal points keep criterion order
        reasons.append(required_notes(ix.peers[position], q, wanted) + tuple(scored))
    return reasons


_points = attrgetter("points")


def _said(criterion: Criterion, points: float, weight: float, phrase: Phrase) -> Contribution:
    return Contribution(criterion, points, weight, english(phrase), phrase)


def _values(pref: Preference | None) -> frozenset[str]:
    return frozenset() if pref is None else pref.values


def _codes(name: str, codes: Iterable[str], kind: str, joiner: str = "and") -> Arg:
    return Arg(name, tuple(codes), kind, joiner)


def _language(ix: RosterIndex, q: Query, i: int) -> Phrase:
    wanted = _values(q.weighted_language)
    spoken = sorted(ix.peers[i].languages & wanted)
    if q.interpreter:
        if spoken:
            return Phrase("Speaks {languages}, so no interpreter is needed", (_codes("languages", spoken, "language"),))
        missing = _codes("languages", sorted(wanted), "language", "or")
        return Phrase("Does not speak {languages}; an interpreter will be arranged", (missing,))
    if spoken:
        return Phrase("Speaks {languages} (preferred language)", (_codes("languages", spoken, "language"),))
    return Phrase("Does not speak a preferred language")


def _shared(peer_tags: frozenset[str], pref: Preference | None) -> tuple[list[str], int]:
    wanted = _values(pref)
    return sorted(peer_tags & wanted), len(wanted)


def _some_of(template: str, shared: list[str], asked: int, name: Callable[[str], str]) -> Phrase:
    """``template`` with {names}; when more than one was asked, with {count} of {asked} too."""
    names = Arg("names", tuple(name(t) for t in shared), "text")
    if asked == 1:
        return Phrase(template, (names,))
    return Phrase(template, (names, Arg.number("count", len(shared)), Arg.number("asked", asked)))


def _culture(ix: RosterIndex, q: Query, i: int) -> Phrase:
    shared, asked = _shared(ix.peers[i].cultures, q.request.preferences.cultures)
    if not shared:
        return Phrase("Shares no preferred cultural identity")
    if asked == 1:
        return _some_of("Shares cultural identity: {names}", shared, asked, labels.tag)
    return _some_of("Shares cultural identity: {count} of {asked} ({names})", shared, asked, labels.tag)


def _lived_experience(ix: RosterIndex, q: Query, i: int) -> Phrase:
    shared, asked = _shared(ix.peers[i].lived_experience, q.request.preferences.lived_experience)
    if not shared:
        return Phrase("Shares none of the preferred lived-experience areas")
    if asked == 1:
        return _some_of("Shares lived experience: {names}", shared, asked, labels.lived_experience)
    return _some_of(
        "Shares lived experience: {count} of {asked} areas ({names})", shared, asked, labels.lived_experience
    )


def _pathway(ix: RosterIndex, q: Query, i: int) -> Phrase:
    known, asked = _shared(ix.peers[i].pathways, q.request.preferences.pathways)
    if not known:
        return Phrase("Not familiar with a preferred recovery pathway")
    if asked > 1:
        return _some_of("Familiar with {names} ({count} of {asked} pathways)", known, asked, labels.pathway)
    return _some_of("Familiar with {names}", known, asked, labels.pathway)


def _gender(ix: RosterIndex, q: Query, i: int) -> Phrase:
    if ix.peers[i].gender in _values(q.request.preferences.gender):
        return Phrase("Gender matches the preference")
    return Phrase("Gender differs from the preference")


def _continuity(ix: RosterIndex, q: Query, i: int) -> Phrase:
    if ix.peer_ids[i] == q.request.previous_peer_id:
        return Phrase("Previous peer, so the relationship can continue")
    return Phrase("Not the previous peer")


def _availability(ix: RosterIndex, q: Query, i: int) -> Phrase:
    """The time shared each week, and from which clock change it shrinks or grows.

    Each change wraps the phrase so far: "{before} until {until}, then {then}",
    so every template is fixed and a client's catalogue can translate it.
    """
    peer, mine = ix.peers[i], q.request.participant
    said: Phrase | None = None
    since, before = q.engagement.start, -1
    for stretch, week in zip(q.stretches, q.mines, strict=True):
        slots = (stretch.week.bits[i] & week.bits).bit_count()
        if said is None:
            said = Phrase("Available together {duration} a week", (_minutes("duration", slots),))
        elif slots != before:
            change, zone = _change_before(since, stretch.start, (mine.time_zone, peer.time_zone))
            day = change.astimezone(ZoneInfo(zone)).date().isoformat()
            args = (Arg.nested("before", said), Arg("until", (day,), "date"), _minutes("then", slots))
            said = Phrase("{before} until {until}, then {then}", args)
        if slots != before:
            since, before = stretch.start, slots
    assert said is not None  # an engagement has at least one week
    return said


def _change_before(since: datetime, week: datetime, zones: tuple[str, str]) -> tuple[datetime, str]:
    """The last clock change of either zone from ``since`` to the end of ``week`` (where the overlap
    moved), and the zone that changed, whose date for it people know ("Europe changes on 28 March")."""
    changes = [(c, zone) for zone in zones for c in offset_changes(zone, since, week + ONE_WEEK)]
    return max(changes, default=(week, zones[0]))


def _minutes(name: str, slots: int) -> Arg:
    return Arg(name, (labels.duration(slots * SLOT_MINUTES),), "text")


def _balance(ix: RosterIndex, q: Query, i: int) -> Phrase:
    free = max(0, ix.peers[i].capacity - int(q.loads[i]))
    units = (Arg.number("units", free),)
    if free == 1:
        return Phrase("Has capacity for {units} more caseload unit (balance)", units)
    return Phrase("Has capacity for {units} more caseload units (balance)", units)


def _modality(ix: RosterIndex, q: Query, i: int) -> Phrase:
    peer: Peer = ix.peers[i]
    area = q.request.participant.service_area
    offered = [
        Modality(m).value
        for m in sorted(_values(q.request.preferences.modalities))
        if m in peer.modalities and (m != Modality.IN_PERSON or (area and area == peer.service_area))
    ]
    if not offered:
        return Phrase("Does not offer a preferred way to meet")
    return Phrase("Can meet {ways} (preferred)", (_codes("ways", offered, "modality", "or"),))


def _service_area(ix: RosterIndex, q: Query, i: int) -> Phrase:
    if ix.peers[i].service_area in _values(q.request.preferences.service_area):
        area = Arg("area", (labels.tag(ix.peers[i].service_area),), "text")
        return Phrase("Works in {area} (preferred service area)", (area,))
    return Phrase("Works outside the preferred service areas")


def _certification(ix: RosterIndex, q: Query, i: int) -> Phrase:
    wanted = _values(q.request.preferences.certifications)
    held = sorted(ix.peers[i].certifications & wanted)
    if held:
        return Phrase("Holds {names}, a certification the participant prefers", (_codes("names", held, "text"),))
    missing = _codes("names", sorted(wanted), "text", "or")
    return Phrase("Does not hold {names}, a certification the participant prefers", (missing,))


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
    Criterion.CERTIFICATION: _certification,
}
