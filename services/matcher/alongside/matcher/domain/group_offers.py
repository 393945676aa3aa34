"""Which community groups to offer a participant, in which order.

Pure: the directory, the validated request and the time in, offers out.

A group fits when it is not retired, serves the participant's age band,
meets in a way they can (video or phone anywhere; in person only in their
service area), holds at least one weekly meeting that lies wholly inside
their availability in every week of the engagement horizon (across both
zones' clock changes), and meets in a required language. Stated pathways
are a filter, never a weight: only groups of those pathways are offered.

Among the groups that fit, the score adds plain criteria only (a preferred
language, a preferred way to meet, meeting nearby, how many of its meetings
the participant can make); nothing about a group's size, attendance or how
often it was offered exists here, so popularity can never outrank a choice.
The order then spreads over pathways: each next offer is the best group of
a pathway not yet offered while one remains, so with no pathway stated no
two of the first three share an approach whenever three approaches fit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from alongside.matcher.domain.availability import horizon_weeks
from alongside.matcher.domain.explain_group import group_reasons
from alongside.matcher.domain.group_fit import Fit, fit
from alongside.matcher.domain.groups import CommunityGroup, GroupPathway
from alongside.matcher.domain.model import MatchRequest
from alongside.matcher.domain.results import Contribution

DEFAULT_OFFERS = 3


@dataclass(frozen=True)
class Offer:
    group: CommunityGroup
    score: float
    reasons: tuple[Contribution, ...]


def offer_groups(
    groups: Iterable[CommunityGroup],
    request: MatchRequest,
    pathways: frozenset[GroupPathway],
    *,
    n: int,
    now: datetime,
    horizon: timedelta = timedelta(0),
) -> tuple[Offer, ...]:
    """Up to ``n`` groups for ``request`` (validated), spread over pathways; ``pathways`` stated ones.

    A meeting counts when it suits the participant in every week of ``horizon`` from ``now``.
    """
    if n <= 0:
        return ()
    weeks = horizon_weeks(now, horizon)
    fits = [f for g in groups if (f := fit(g, request, pathways, weeks)) is not None]
    chosen = diverse_order(fits, n)
    return tuple(Offer(f.group, round(f.score, 4), group_reasons(f, request, pathways)) for f in chosen)


def diverse_order(fits: Sequence[Fit], n: int) -> list[Fit]:
    """Best first, but each next pick comes from a pathway not yet picked while one is left.

    Ties go to the group id, so the order is deterministic.
    """
    ranked = sorted(fits, key=lambda f: (-f.score, f.group.group_id))
    chosen: list[Fit] = []
    used: set[GroupPathway] = set()
    while ranked and len(chosen) < n:
        pick = next((f for f in ranked if f.group.pathway not in used), ranked[0])
        ranked.remove(pick)
        chosen.append(pick)
        used.add(pick.group.pathway)
        if all(f.group.pathway in used for f in ranked):
            used.clear()  # every remaining pathway is offered once: start a new round
    return chosen
