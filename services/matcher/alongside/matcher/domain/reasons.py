"""Waiting-list reasons: the funnel in plain language, and what emptied it.

Texts describe the requirement, never the participant or any peer: "Speaks
Somali: 0 of 212" tells intake staff where the roster runs out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from alongside.matcher.domain import labels
from alongside.matcher.domain.constraints import Constraint, type_serves_age
from alongside.matcher.domain.feasibility import Step, emptied_by
from alongside.matcher.domain.model import Modality, Preference
from alongside.matcher.domain.query import Query
from alongside.matcher.domain.results import ConstraintCount, Reason

Label = Callable[[Query], str]


def waitlist_reason(steps: tuple[Step, ...], q: Query) -> Reason:
    """The funnel with texts, and a one-line summary naming the emptying step."""
    funnel = tuple(ConstraintCount(s.constraint.value, s.remaining, s.of, _count_text(s, q)) for s in steps)
    empty = emptied_by(steps)
    if empty is None:
        return Reason("Every peer passed the checks", "", funnel)
    return Reason(_summary(empty, q), empty.constraint.value, funnel)


def _count_text(step: Step, q: Query) -> str:
    languages = q.request.preferences.languages
    if step.constraint == Constraint.LANGUAGE and q.interpreter and languages is not None and languages.required:
        return "Language: not required, an interpreter will be arranged"
    if not step.applies and step.constraint in _UNASKED:
        return _UNASKED[step.constraint]
    return f"{_LABELS[step.constraint](q)}: {step.remaining} of {step.of}"


def _summary(step: Step, q: Query) -> str:
    if step.constraint == Constraint.STATUS:
        if step.of == 0:
            return "The roster has no peers yet"
        if step.of == 1:
            return "Status: the one peer on the roster is not active"
        return f"Status: none of the {step.of} peers on the roster is active"
    if step.constraint == Constraint.CAPACITY:
        full = "is full" if step.of == 1 else "are full"
        if q.request.acuity > 1:
            full = f"{'has' if step.of == 1 else 'have'} fewer than {q.request.acuity} units free"
        peers = "peer" if step.of == 1 else "peers"
        return f"Capacity: the {step.of} otherwise feasible {peers} {full}"
    who = "peer who passes" if step.of == 1 else "peers who pass"
    return f"{_LABELS[step.constraint](q)}: 0 of the {step.of} {who} the earlier checks"


def _either(values: Iterable[str]) -> str:
    return labels.join(sorted(values), "or")


def _values(pref: Preference | None) -> frozenset[str] | None:
    return pref.values if pref is not None and pref.required else None


def _peer_types(q: Query) -> str:
    return "Peer type " + labels.join(sorted(labels.PEER_TYPES[t] for t in q.request.peer_types), "or")


def _age(q: Query) -> str:
    age = q.request.participant.age_band
    allowed = [labels.PEER_TYPES[t] for t in sorted(q.request.peer_types) if type_serves_age(t, age)]
    if not allowed:
        return f"Serves {labels.AGE_BANDS[age]} in a peer type allowed for that age (none was requested)"
    return f"Serves {labels.AGE_BANDS[age]} as {labels.join(allowed, 'or')}"


def _language(q: Query) -> str:
    pref = q.request.preferences.languages
    names = labels.join((labels.language(c) for c in sorted(pref.values if pref else ())), "or")
    return f"Speaks {names}"


def _simple(name: str, say: Callable[[frozenset[str]], str]) -> Label:
    def label(q: Query) -> str:
        return say(_values(getattr(q.request.preferences, name)) or frozenset())

    return label


def _modality(q: Query) -> str:
    values = _values(q.request.preferences.modalities)
    if values is None:
        return "Shares a way to meet (in person only within the same service area)"
    wanted = sorted(Modality(v) for v in values)
    ways = labels.join((labels.MODALITIES[m] for m in wanted), "or")
    nearby = " (within the same service area)" if wanted == [Modality.IN_PERSON] else ""
    if Modality.IN_PERSON in wanted and len(wanted) > 1:
        nearby = " (in person only within the same service area)"
    return f"Can meet {ways}{nearby}"


def _availability(q: Query) -> str:
    return f"Free at the same time for a {q.request.session_minutes}-minute session each week"


def _capacity(q: Query) -> str:
    return f"Has room for {labels.plural(q.request.acuity, 'caseload unit')}"


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
    Constraint.STATUS: lambda q: "Active on the roster",
    Constraint.PEER_TYPE: _peer_types,
    Constraint.NOT_EXCLUDED: lambda q: "Not excluded and not declined",
    Constraint.AGE_RULES: _age,
    Constraint.LANGUAGE: _language,
    Constraint.GENDER: _simple("gender", lambda v: "Gender as required"),
    Constraint.CERTIFICATION: _simple("certifications", lambda v: f"Holds {_either(v)}"),
    Constraint.CULTURE: _simple("cultures", lambda v: f"Shares cultural identity {_either(labels.tag(t) for t in v)}"),
    Constraint.LIVED_EXPERIENCE: _simple(
        "lived_experience",
        lambda v: "Shares lived experience: " + labels.join(sorted(labels.lived_experience(t) for t in v)),
    ),
    Constraint.PATHWAY: _simple("pathways", lambda v: f"Familiar with {_either(labels.pathway(p) for p in v)}"),
    Constraint.SERVICE_AREA: _simple("service_area", lambda v: f"Works in {_either(labels.tag(a) for a in v)}"),
    Constraint.MODALITY: _modality,
    Constraint.AVAILABILITY: _availability,
    Constraint.CAPACITY: _capacity,
}
