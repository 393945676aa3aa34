"""The roster as column arrays, so one request is filtered and scored at once.

Build a ``RosterIndex`` once per roster version; loads change often and are
updated in place with ``set_load`` (or passed to the engine per query). Peers
are kept sorted by id, so an index position order is a peer id order and ties
break by id for free. Peers must have been through ``validate_peer``.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from alongside.kit.errors import InvalidArgument, NotFound
from alongside.matcher.domain import availability as av
from alongside.matcher.domain.model import Peer, PeerStatus
from alongside.matcher.domain.tag_matrix import MEMO_LIMIT, IntArray, TagMatrix, frozen

# Session lengths whose run masks ``prepare`` builds up front.
COMMON_SESSIONS = (30, 45, 60, 90)
# How far ahead a match must keep working unless the caller says (MatcherSettings).
DEFAULT_HORIZON = timedelta(weeks=26)
# Engagements kept per index: participant zones x horizons in use today.
ENGAGEMENTS_KEPT = 256


@dataclass
class PeerWeek:
    """Every peer's UTC slots for one week plan of the roster's zones, with run starts per length.

    ``words`` and ``run_words(n)`` are (WORDS, peers) matrices, one row per word.
    """

    plans: tuple[av.Plan, ...]
    bits: tuple[int, ...]
    words: av.Words
    _runs: dict[int, av.Words] = field(default_factory=dict)

    def run_words(self, length: int) -> av.Words:
        if length not in self._runs:
            self._runs[length] = frozen(av.to_columns([av.run_starts(b, length) for b in self.bits]))
        return self._runs[length]


class RosterIndex:
    """Column arrays over the roster, one position per peer, sorted by id."""

    def __init__(self, peers: Iterable[Peer], loads: Mapping[str, int] | None = None) -> None:
        ordered = sorted(peers, key=lambda p: p.peer_id)
        self.peers: tuple[Peer, ...] = tuple(ordered)
        self.peer_ids: tuple[str, ...] = tuple(p.peer_id for p in ordered)
        self.positions: dict[str, int] = {pid: i for i, pid in enumerate(self.peer_ids)}
        if len(self.positions) != len(ordered):
            raise InvalidArgument("peers", "peer ids must be unique")
        self.active = frozen(np.array([p.status == PeerStatus.ACTIVE for p in ordered], bool))
        self.types = TagMatrix.build([p.types for p in ordered])
        self.certifications = TagMatrix.build([p.certifications for p in ordered])
        self.languages = TagMatrix.build([p.languages for p in ordered])
        self.cultures = TagMatrix.build([p.cultures for p in ordered])
        self.genders = TagMatrix.build([_single(p.gender) for p in ordered])
        self.lived_experience = TagMatrix.build([p.lived_experience for p in ordered])
        self.pathways = TagMatrix.build([p.pathways for p in ordered])
        self.modalities = TagMatrix.build([p.modalities for p in ordered])
        self.service_areas = TagMatrix.build([_single(p.service_area) for p in ordered])
        self.age_groups = TagMatrix.build([p.age_groups for p in ordered])
        self.capacity: IntArray = frozen(np.array([p.capacity for p in ordered], np.int64))
        self.capacity_divisor = frozen(np.maximum(self.capacity, 1).astype(np.float64))
        self.loads: IntArray = np.zeros(len(ordered), dtype=np.int64)
        self.zones: tuple[str, ...] = tuple(sorted({p.time_zone for p in ordered}))
        zone_at = {z: i for i, z in enumerate(self.zones)}
        self._zone_of = tuple(zone_at[p.time_zone] for p in ordered)
        self._weeks: dict[tuple[av.Plan, ...], PeerWeek] = {}
        self._engagements: dict[tuple[datetime, str, timedelta], Engagement] = {}
        self.derived: dict[Hashable, av.BoolArray] = {}
        for peer_id, units in (loads or {}).items():
            self.set_load(peer_id, units)

    def __len__(self) -> int:
        return len(self.peers)

    def remember(self, key: Hashable, mask: av.BoolArray) -> None:
        """Keep a mask derived from roster attributes only (never from loads)."""
        if len(self.derived) >= MEMO_LIMIT:
            self.derived.clear()
        self.derived[key] = frozen(mask)

    def set_load(self, peer_id: str, units: int) -> None:
        """Record a peer's load: acuity units of active matches plus live holds."""
        if units < 0:
            raise InvalidArgument("load", "must not be negative")
        position = self.positions.get(peer_id)
        if position is None:
            raise NotFound("peer is not on the roster")
        self.loads[position] = units

    def engagement(self, now: datetime, time_zone: str, horizon: timedelta = DEFAULT_HORIZON) -> Engagement:
        """The distinct weeks a participant in ``time_zone`` and the roster go through over ``horizon``.

        The horizon runs from the start of ``now``'s UTC day (so one answer
        serves the whole day); every calendar week it touches is looked at,
        only the week of today when it is zero (the rule before the horizon).
        Weeks with the same plans in every zone are the same week: a few
        remain (one per offset regime, and one per week with a clock
        change). The peers' weeks are built on first use and shared by every
        participant zone.
        """
        if now.tzinfo is None:
            raise InvalidArgument("now", "must carry a time zone")
        day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        key = (day, time_zone, horizon)
        found = self._engagements.get(key)
        if found is None:
            if len(self._engagements) >= ENGAGEMENTS_KEPT:
                self._engagements.clear()
            found = self._engagement(day, time_zone, horizon)
            self._engagements[key] = found
        return found

    def prepare(
        self, now: datetime, session_minutes: Iterable[int] = COMMON_SESSIONS, horizon: timedelta = DEFAULT_HORIZON
    ) -> None:
        """Build the peers' weeks of the horizon and their session runs ahead, off the request path."""
        zone = self.zones[0] if self.zones else "UTC"
        for stretch in self.engagement(now, zone, horizon).stretches:
            for minutes in session_minutes:
                stretch.week.run_words(av.session_slots(minutes))

    def _engagement(self, day: datetime, time_zone: str, horizon: timedelta) -> Engagement:
        seen: set[tuple[tuple[av.Plan, ...], av.Plan]] = set()
        stretches = []
        for week in av.horizon_weeks(day, horizon):
            plans = tuple(av.week_plan(zone, week) for zone in self.zones)
            mine = av.week_plan(time_zone, week)
            if (plans, mine) not in seen:
                seen.add((plans, mine))
                stretches.append(Stretch(week, self._week(plans), mine))
        return Engagement(day, horizon, tuple(stretches))

    def _week(self, plans: tuple[av.Plan, ...]) -> PeerWeek:
        """Building takes tens of milliseconds for a few thousand peers, once per distinct week."""
        week = self._weeks.get(plans)
        if week is None:
            pairs = zip(self.peers, self._zone_of, strict=True)
            bits = tuple(av.plan_bits(p.availability, plans[z]) for p, z in pairs)
            week = PeerWeek(plans, bits, frozen(av.to_columns(list(bits))))
            self._weeks[plans] = week
        return week


@dataclass(frozen=True)
class Stretch:
    """The first calendar week (from ``start``) of its kind: the peers' week then, and the participant's plan."""

    start: datetime
    week: PeerWeek
    plan: av.Plan


@dataclass(frozen=True)
class Engagement:
    """The horizon from ``start`` (a UTC midnight) and its distinct weeks in time order; a pair must overlap in each."""

    start: datetime
    horizon: timedelta
    stretches: tuple[Stretch, ...]


def _single(tag: str) -> frozenset[str]:
    return frozenset({tag}) if tag else frozenset()
