"""Plain-language reasons an offered community group fits, as phrases.

Like a candidate's contributions: the rules it meets first (with no
points), then the soft criteria with their points, most first. Pathway and
audience names are the directory's words (kind ``text``).
"""

from __future__ import annotations

from alongside.matcher.domain import group_fit as go
from alongside.matcher.domain.group_fit import Fit
from alongside.matcher.domain.groups import GroupAudience, GroupPathway
from alongside.matcher.domain.model import MatchRequest
from alongside.matcher.domain.phrases import Arg, Phrase, english
from alongside.matcher.domain.results import Contribution

PATHWAYS = {
    GroupPathway.TWELVE_STEP: "a twelve-step fellowship",
    GroupPathway.SMART_RECOVERY: "SMART Recovery",
    GroupPathway.REFUGE_RECOVERY: "Refuge Recovery",
    GroupPathway.RECOVERY_DHARMA: "Recovery Dharma",
    GroupPathway.MEDICATION_ASSISTED: "medication-assisted recovery",
    GroupPathway.FAMILY: "a family and friends approach",
    GroupPathway.RECOVERY_COMMUNITY_ORG: "a recovery community organisation",
    GroupPathway.PEER_LED: "a peer-led approach",
    GroupPathway.OTHER: "its own approach",
}
AUDIENCES = {
    GroupAudience.ADULTS: "adults",
    GroupAudience.YOUNG_PEOPLE: "young people",
    GroupAudience.OLDER_ADULTS: "older adults",
    GroupAudience.FAMILIES: "families",
    GroupAudience.WOMEN: "women",
    GroupAudience.MEN: "men",
    GroupAudience.LGBTQ: "LGBTQ+ people",
    GroupAudience.VETERANS: "veterans",
}


def group_reasons(f: Fit, request: MatchRequest, pathways: frozenset[GroupPathway]) -> tuple[Contribution, ...]:
    rules = [_said("pathway", 0.0, 0.0, _pathway(f, pathways))]
    if f.group.audiences:
        names = tuple(AUDIENCES[a] for a in GroupAudience if a in f.group.audiences)
        rules.append(_said("audience", 0.0, 0.0, Phrase("For {audiences}", (Arg("audiences", names, "text", "and"),))))
    points = [_schedule(f), _language(f, request), _ways(f, request)]
    if f.nearby:
        area = Arg("area", (f.group.area.replace("_", " "),), "text")
        points.append(_said("area", go.NEARBY_POINTS, go.NEARBY_POINTS, Phrase("Meets in person in {area}", (area,))))
    points.sort(key=lambda c: c.points, reverse=True)
    tail = []
    if f.group.accessibility:
        notes = Arg("notes", (f.group.accessibility,), "text")
        tail.append(_said("accessibility", 0.0, 0.0, Phrase("Accessibility: {notes}", (notes,))))
    return tuple(rules + points + tail)


def _said(criterion: str, points: float, max_points: float, phrase: Phrase) -> Contribution:
    return Contribution(criterion, round(points, 4), max_points, english(phrase), phrase)


def _pathway(f: Fit, pathways: frozenset[GroupPathway]) -> Phrase:
    name = (Arg("pathway", (PATHWAYS[f.group.pathway],), "text"),)
    if pathways:
        return Phrase("Follows {pathway}, a pathway the participant asked for", name)
    return Phrase("Follows {pathway}; offered beside other pathways for the participant to choose", name)


def _schedule(f: Fit) -> Contribution:
    total = len(f.group.meetings)
    points = go.SCHEDULE_POINTS * f.meetings_fit / total
    if total == 1:
        phrase = Phrase("Its weekly meeting is at a time the participant is free")
    else:
        phrase = Phrase(
            "Meets at a time the participant is free: {count} of its {total} weekly meetings",
            (Arg.number("count", f.meetings_fit), Arg.number("total", total)),
        )
    return _said("schedule", points, go.SCHEDULE_POINTS, phrase)


def _language(f: Fit, request: MatchRequest) -> Contribution:
    pref = request.preferences.languages
    if f.language:
        spoken = Arg("languages", tuple(sorted(f.language)), "language", "and")
        return _said(
            "language",
            go.LANGUAGE_POINTS,
            go.LANGUAGE_POINTS,
            Phrase("Meets in {languages} (preferred language)", (spoken,)),
        )
    if pref is not None and pref.preferred:
        return _said("language", 0.0, go.LANGUAGE_POINTS, Phrase("Does not meet in a preferred language"))
    held = Arg(
        "languages", tuple(sorted(f.group.languages & pref.values if pref else f.group.languages)), "language", "and"
    )
    return _said("language", 0.0, 0.0, Phrase("Meets in {languages}", (held,)))


def _ways(f: Fit, request: MatchRequest) -> Contribution:
    pref = request.preferences.modalities
    if f.preferred_ways:
        ways = Arg("ways", tuple(sorted(m.value for m in f.preferred_ways)), "modality", "or")
        return _said("modality", go.MODALITY_POINTS, go.MODALITY_POINTS, Phrase("Can meet {ways} (preferred)", (ways,)))
    ways = Arg("ways", tuple(sorted(m.value for m in f.ways)), "modality", "or")
    if pref is not None and pref.preferred:
        return _said("modality", 0.0, go.MODALITY_POINTS, Phrase("Can meet {ways}, not a preferred way", (ways,)))
    return _said("modality", 0.0, 0.0, Phrase("Can meet {ways}", (ways,)))
