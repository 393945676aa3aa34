"""The roster as column arrays, so one request is filtered and scored at once.

Build a ``RosterIndex`` once per roster version; loads change often and are
updated in place with ``set_load`` (or passed to the engine per query). Peers
are kept sorted by id, so an index position order is a peer id order and ties
break by id for free. Peers must have been through ``validate_peer``.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from alongside.kit.errors import InvalidArgument, NotFound
from alongside.matcher.domain import availability as av
from alongside.matcher.domain.model import Peer, PeerStatus
from alongside.matcher.domain.tag_matrix import MEMO_LIMIT, IntArray, TagMatrix, frozen

# Availability for this many reference weeks stays cached (this one and the next).
WEEKS_KEPT = 2
# Session lengths whose run masks ``prepare`` builds up front.
COMMON_SESSIONS = (30, 45, 60, 90)
ONE_WEEK = timedelta(days=7)


@dataclass
class PeerWeek:
    """Every peer's UTC slots for one reference week, with run starts per length.

    ``words`` and ``run_words(n)`` are (WORDS, peers) matrices, one row per word.
    """

    start: datetime
    bits: tuple[int, ...]
    words: av.Words
    _runs: dict[int, av.Words] = field(default_factory=dict)

    @property
    def end(self) -> datetime:
        return self.start + ONE_WEEK

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
        self._weeks: dict[datetime, PeerWeek] = {}
        self._last_week: PeerWeek | None = None
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

    def week(self, now: datetime) -> PeerWeek:
        """Peers' UTC availability for the week containing ``now``, built on first use.

        Building takes tens of milliseconds for a few thousand peers; call this
        when a week begins to keep that cost off the first request.
        """
        last = self._last_week
        if last is not None and now.tzinfo is not None and last.start <= now < last.end:
            return last  # the common case: same week as the previous request
        start = av.week_start(now)
        cached = self._weeks.get(start)
        if cached is None:
            cached = self._build_week(start)
            while len(self._weeks) >= WEEKS_KEPT:
                del self._weeks[min(self._weeks)]
            self._weeks[start] = cached
        self._last_week = cached
        return cached

    def prepare(self, now: datetime, session_minutes: Iterable[int] = COMMON_SESSIONS) -> None:
        """Build the week of ``now`` and its session runs ahead of the first request."""
        week = self.week(now)
        for minutes in session_minutes:
            week.run_words(av.session_slots(minutes))

    def _build_week(self, start: datetime) -> PeerWeek:
        bits = tuple(av.slot_bits(p.availability, p.time_zone, start) for p in self.peers)
        return PeerWeek(start, bits, frozen(av.to_columns(list(bits))))


def _single(tag: str) -> frozenset[str]:
    return frozenset({tag}) if tag else frozenset()
