"""Whether one community group fits a participant, and the facts that say why.

Pure. The hard rules and the points are listed in ``group_offers``; the
schedule is checked with the peers' availability rules
(``domain.availability``): a meeting fits when every one of its slots is in
the participant's free slots in every distinct week of the engagement
horizon, as a pair of participant and peer must overlap: a group that
meets in the participant's evening in December but in their working day
after a clock change in March is not offered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from alongside.matcher.domain import availability as av
from alongside.matcher.domain.groups import CommunityGroup, GroupPathway
from alongside.matcher.domain.model import MatchRequest, Modality, WeeklyWindow

# Points for each soft criterion, as a candidate's contributions show them.
LANGUAGE_POINTS = 1.0
MODALITY_POINTS = 1.0
NEARBY_POINTS = 0.5
SCHEDULE_POINTS = 1.0
_REMOTE = frozenset({Modality.VIDEO, Modality.PHONE})


@dataclass(frozen=True)
class Fit:
    """A group that fits, with the facts its score and explanation are made of."""

    group: CommunityGroup
    meetings_fit: int
    language: frozenset[str]  # preferred languages it meets in
    ways: frozenset[Modality]  # the ways it meets the participant can use
    preferred_ways: frozenset[Modality]
    nearby: bool

    @property
    def score(self) -> float:
        points = SCHEDULE_POINTS * self.meetings_fit / len(self.group.meetings)
        points += LANGUAGE_POINTS if self.language else 0.0
        points += MODALITY_POINTS if self.preferred_ways else 0.0
        return points + (NEARBY_POINTS if self.nearby else 0.0)


def fit(
    group: CommunityGroup, request: MatchRequest, pathways: frozenset[GroupPathway], weeks: Sequence[datetime]
) -> Fit | None:
    """The group's fit for the request, or None when a hard rule fails."""
    part, prefs = request.participant, request.preferences
    if group.retired or (pathways and group.pathway not in pathways) or not group.serves(part.age_band):
        return None
    langs = prefs.languages
    shared = group.languages & langs.values if langs is not None else frozenset()
    if langs is not None and langs.required and not shared:
        return None
    nearby = Modality.IN_PERSON in group.modalities and bool(part.service_area) and part.service_area == group.area
    ways = (group.modalities & _REMOTE) | ({Modality.IN_PERSON} if nearby else set())
    wanted = frozenset(Modality(v) for v in prefs.modalities.values) if prefs.modalities else frozenset()
    if prefs.modalities is not None and prefs.modalities.required:
        ways &= wanted
    if not ways:
        return None
    part_zone, windows = part.time_zone, part.availability
    regimes = _regimes(group.time_zone, part_zone, weeks)
    meetings = sum(1 for m in group.meetings if all(_covered(m, windows, plans) for plans in regimes))
    if not meetings:
        return None
    preferred = ways & wanted if prefs.modalities is not None and prefs.modalities.preferred else frozenset()
    return Fit(
        group,
        meetings,
        shared if langs is not None and langs.preferred else frozenset(),
        frozenset(ways),
        preferred,
        nearby,
    )


def _regimes(group_zone: str, part_zone: str, weeks: Sequence[datetime]) -> set[tuple[av.Plan, av.Plan]]:
    """The distinct (group, participant) week plans over ``weeks``: one or two most of the year."""
    return {(av.week_plan(group_zone, week), av.week_plan(part_zone, week)) for week in weeks}


def _covered(meeting: WeeklyWindow, windows: tuple[WeeklyWindow, ...], plans: tuple[av.Plan, av.Plan]) -> bool:
    """The whole meeting lies inside the participant's free slots of a week that follows ``plans``."""
    bits = av.plan_bits((meeting,), plans[0])
    return bits != 0 and bits & ~av.plan_bits(windows, plans[1]) == 0
