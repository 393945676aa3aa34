"""A match request prepared once against a roster index.

Everything the hard constraints and soft criteria share (the participant's
UTC slots in each regime of the engagement horizon, the blocked peers, the
loads in force) is computed here, once per request, so each check stays a
few array operations.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from alongside.matcher.domain import availability as av
from alongside.matcher.domain.model import MatchRequest, Preference
from alongside.matcher.domain.programme_policy import DEFAULT_POLICY, ProgrammePolicy
from alongside.matcher.domain.roster_index import DEFAULT_HORIZON, Engagement, PeerWeek, RosterIndex, Stretch
from alongside.matcher.domain.tag_matrix import IntArray


@dataclass(frozen=True)
class Query:
    """One request against one roster, over the engagement horizon from ``now``.

    ``stretches[k]`` and ``mines[k]`` are the peers' and the participant's
    k-th distinct week of the horizon; the first is this week.
    """

    request: MatchRequest
    blocked: frozenset[str]
    engagement: Engagement
    mines: tuple[av.Mine, ...]
    loads: IntArray
    free: IntArray  # capacity minus load, per peer
    policy: ProgrammePolicy = DEFAULT_POLICY  # the programme's age rules and strengths

    @property
    def stretches(self) -> tuple[Stretch, ...]:
        return self.engagement.stretches

    @property
    def week(self) -> PeerWeek:
        """The peers' week in force now."""
        return self.stretches[0].week

    @property
    def mine(self) -> av.Mine:
        """The participant's week in force now."""
        return self.mines[0]

    @property
    def interpreter(self) -> bool:
        """An interpreter turns a required language into a preferred one."""
        return self.request.participant.interpreter_needed and self.request.preferences.languages is not None

    @property
    def required_language(self) -> Preference | None:
        pref = self.request.preferences.languages
        if pref is None or not pref.required or self.request.participant.interpreter_needed:
            return None
        return pref

    @property
    def weighted_language(self) -> Preference | None:
        pref = self.request.preferences.languages
        if pref is None or not (pref.preferred or self.interpreter):
            return None
        return pref


def compile_query(
    index: RosterIndex,
    request: MatchRequest,
    *,
    now: datetime,
    declined: frozenset[str] = frozenset(),
    loads: IntArray | None = None,
    policy: ProgrammePolicy = DEFAULT_POLICY,
    horizon: timedelta = DEFAULT_HORIZON,
) -> Query:
    """Prepare ``request`` under ``policy``; ``loads`` overrides the index's loads for this query."""
    participant = request.participant
    engagement = index.engagement(now, participant.time_zone, horizon)
    length = av.session_slots(request.session_minutes)
    mines = tuple(av.participant_week(participant.availability, s.plan, length) for s in engagement.stretches)
    loads = index.loads if loads is None else loads
    return Query(
        request=request,
        blocked=request.excluded_peer_ids | declined,
        engagement=engagement,
        mines=mines,
        loads=loads,
        free=index.capacity - loads,
        policy=policy,
    )
