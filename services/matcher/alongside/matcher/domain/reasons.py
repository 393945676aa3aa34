"""Waiting-list reasons: the funnel in plain language, and what emptied it.

Texts describe the requirement, never the participant or any peer: "Speaks
Somali: 0 of 212" tells intake staff where the roster runs out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from alongside.matcher.domain import labels
from alongside.matcher.domain.constraints import Constraint, type_serves_age
from alongside.matcher.domain.feasibility import Step, emptied_by
from alongside.matcher.domain.model import Modality, PeerType, Preference
from alongside.matcher.domain.phrases import Arg, Phrase, english
from alongside.matcher.domain.query import Query
from alongside.matcher.domain.results import ConstraintCount, Reason

Label = Callable[[Query], Phrase]


def waitlist_reason(steps: tuple[Step, ...], q: Query) -> Reason:
    """The funnel with texts, and a one-line summary naming the emptying step."""
    funnel = tuple(_count(s, q) for s in steps)
    empty = emptied_by(steps)
    if empty is None:
        return _reason(Phrase("Every peer passed the checks"), "", funnel)
    return _reason(_summary(empty, q), empty.constraint.value, funnel)


def _reason(summary: Phrase, constraint: str, funnel: tuple[ConstraintCount, ...]) -> Reason:
    return Reason(english(summary), constraint, funnel, summary)


def _count(step: Step, q: Query) -> ConstraintCount:
    phrase = _count_text(step, q)
    return ConstraintCount(step.constraint.value, step.remaining, step.of, english(phrase), phrase)


def _count_text(step: Step, q: Query) -> Phrase:
    languages = q.request.preferences.languages
    if step.constraint == Constraint.LANGUAGE and q.interpreter and languages is not None and languages.required:
        return Phrase("Language: not required, an interpreter will be arranged")
    certifications = q.request.preferences.certifications
    if step.constraint == Constraint.CERTIFICATION and certifications is not None and certifications.preferred:
        return Phrase("Certification: preferred, not required (weighed in the ranking)")
    if not step.applies and step.constraint in _UNASKED:
        return Phrase(_UNASKED[step.constraint])
    label = Arg.nested("label", _LABELS[step.constraint](q))
    counts = (Arg.number("remaining", step.remaining), Arg.number("of", step.of))
    return Phrase("{label}: {remaining} of {of}", (label, *counts))


def _summary(step: Step, q: Query) -> Phrase:
    of = Arg.number("of", step.of)
    if step.constraint == Constraint.STATUS:
        if step.of == 0:
            return Phrase("The roster has no peers yet")
        if step.of == 1:
            return Phrase("Status: the one peer on the roster is not active")
        return Phrase("Status: none of the {of} peers on the roster is active", (of,))
    if step.constraint == Constraint.CAPACITY:
        units = Arg.number("units", q.request.acuity)
        if step.of == 1:
            if q.request.acuity > 1:
                fewer = "Capacity: the {of} otherwise feasible peer has fewer than {units} units free"
                return Phrase(fewer, (of, units))
            return Phrase("Capacity: the {of} otherwise feasible peer is full", (of,))
        if q.request.acuity > 1:
            return Phrase("Capacity: the {of} otherwise feasible peers have fewer than {units} units free", (of, units))
        return Phrase("Capacity: the {of} otherwise feasible peers are full", (of,))
    label = Arg.nested("label", _LABELS[step.constraint](q))
    if step.of == 1:
        return Phrase("{label}: 0 of the {of} peer who passes the earlier checks", (label, of))
    return Phrase("{label}: 0 of the {of} peers who pass the earlier checks", (label, of))


def _either(name: str, values: Iterable[str], kind: str = "text") -> Arg:
    return Arg(name, tuple(sorted(values)), kind, "or")


def _values(pref: Preference | None) -> frozenset[str] | None:
    return pref.values if pref is not None and pref.required else None


def _types(name: str, types: Iterable[PeerType]) -> Arg:
    ordered = sorted(types, key=lambda t: labels.PEER_TYPES[t])
    return Arg(name, tuple(t.value for t in ordered), "peer_type", "or")


def _peer_types(q: Query) -> Phrase:
    return Phrase("Peer type {types}", (_types("types", q.request.peer_types),))


def _age(q: Query) -> Phrase:
    age = q.request.participant.age_band
    band = Arg("age", (age.value,), "age_band")
    requested = sorted(q.request.peer_types)
    allowed = [t for t in requested if type_serves_age(t, age, q.policy)]
    held = {t: q.policy.serves_with(t, age) for t in requested}
    others = [t for t in requested if held[t]]
    if others:
        return _age_with_certification(band, allowed, others, frozenset().union(*held.values()))
    if not allowed:
        return Phrase("Serves {age} in a peer type allowed for that age (none was requested)", (band,))
    return Phrase("Serves {age} as {types}", (band, Arg("types", tuple(t.value for t in allowed), "peer_type", "or")))


def _age_with_certification(
    band: Arg, allowed: list[PeerType], others: list[PeerType], names: frozenset[str]
) -> Phrase:
    """The programme lets ``others`` serve this age only with one of ``names``."""
    certified = (Arg("others", tuple(t.value for t in others), "peer_type", "or"), _either("names", names))
    if not allowed:
        return Phrase("Serves {age} as {others} holding {names}", (band, *certified))
    types = Arg("types", tuple(t.value for t in allowed), "peer_type", "or")
    return Phrase("Serves {age} as {types}, or as {others} holding {names}", (band, types, *certified))


def _language(q: Query) -> Phrase:
    pref = q.request.preferences.languages
    return Phrase("Speaks {languages}", (_either("languages", pref.values if pref else (), "language"),))


def _simple(name: str, say: Callable[[frozenset[str]], Phrase]) -> Label:
    def label(q: Query) -> Phrase:
        return say(_values(getattr(q.request.preferences, name)) or frozenset())

    return label


def _modality(q: Query) -> Phrase:
    values = _values(q.request.preferences.modalities)
    if values is None:
        return Phrase("Shares a way to meet (in person only within the same service area)")
    wanted = sorted(Modality(v) for v in values)
    ways = (Arg("ways", tuple(m.value for m in wanted), "modality", "or"),)
    if wanted == [Modality.IN_PERSON]:
        return Phrase("Can meet {ways} (within the same service area)", ways)
    if Modality.IN_PERSON in wanted:
        return Phrase("Can meet {ways} (in person only within the same service area)", ways)
    return Phrase("Can meet {ways}", ways)


def _availability(q: Query) -> Phrase:
    minutes = Arg.number("minutes", q.request.session_minutes)
    return Phrase("Free at the same time for a {minutes}-minute session each week", (minutes,))


def _capacity(q: Query) -> Phrase:
    units = Arg.number("units", q.request.acuity)
    if q.request.acuity == 1:
        return Phrase("Has room for {units} caseload unit", (units,))
    return Phrase("Has room for {units} caseload units", (units,))


_UNASKED = {
    Constraint.NOT_EXCLUDED: "Exclusions: none on the roster",
    Constraint.LANGUAGE: "Language: no requirement",
    Constraint.GENDER: "Gender: no requirement",
    Constraint.CERTIFICATION: "Certification: no requirement",
    Constraint.CULTURE: "Cultural identity: no requirement",
    Constraint.LIVED_EXPERIENCE: "Lived experience: no requirement",
    Constraint.PATHWAY: "Recovery pathway: no requirement",
    Constraint.SERVICE_AREA: "Service area: no requirement",
}

_LABELS: dict[Constraint, Label] = {
    Constraint.STATUS: lambda q: Phrase("Active on the roster"),
    Constraint.PEER_TYPE: _peer_types,
    Constraint.NOT_EXCLUDED: lambda q: Phrase("Not excluded and not declined"),
    Constraint.AGE_RULES: _age,
    Constraint.LANGUAGE: _language,
    Constraint.GENDER: _simple("gender", lambda v: Phrase("Gender as required")),
    Constraint.CERTIFICATION: _simple("certifications", lambda v: Phrase("Holds {names}", (_either("names", v),))),
    Constraint.CULTURE: _simple(
        "cultures", lambda v: Phrase("Shares cultural identity {names}", (_either("names", map(labels.tag, v)),))
    ),
    Constraint.LIVED_EXPERIENCE: _simple(
        "lived_experience",
        lambda v: Phrase(
            "Shares lived experience: {areas}",
            (Arg("areas", tuple(sorted(labels.lived_experience(t) for t in v)), "text", "and"),),
        ),
    ),
    Constraint.PATHWAY: _simple(
        "pathways", lambda v: Phrase("Familiar with {names}", (_either("names", map(labels.pathway, v)),))
    ),
    Constraint.SERVICE_AREA: _simple(
        "service_area", lambda v: Phrase("Works in {names}", (_either("names", map(labels.tag, v)),))
    ),
    Constraint.MODALITY: _modality,
    Constraint.AVAILABILITY: _availability,
    Constraint.CAPACITY: _capacity,
}
