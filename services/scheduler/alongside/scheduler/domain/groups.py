"""Peer-led group sessions: a weekly series hosted by a peer, with seats.

The schedule is a ``Series`` (``recurrence.py``), so a group's meetings are
expanded exactly as one-to-one series are: in the host's zone, keeping the
local wall time across clock changes. A group has no participant of its
own; its roster (enrolled, waiting, withdrawn) is kept beside it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

from alongside.kit.errors import InvalidArgument

from .recurrence import Occurrence, Series, SeriesStatus

MAX_CAPACITY = 50
MIN_MINUTES = 15
GROUP_SESSION_TYPE = "group"
# An erased participant's place: never a valid reference (an id starts with a letter or digit).
ERASED = "~erased:"


class Modality(enum.StrEnum):
    IN_PERSON = "IN_PERSON"
    VIDEO = "VIDEO"
    PHONE = "PHONE"


class Enrolment(enum.StrEnum):
    """The roster letter stored for each participant."""

    ENROLLED = "E"
    WAITING = "W"
    WITHDRAWN = "X"


@dataclass(frozen=True, slots=True)
class Group:
    id: str
    host_peer_id: str
    co_facilitator_peer_id: str | None
    capacity: int
    modality: Modality
    series: Series

    def __post_init__(self) -> None:
        if not 1 <= self.capacity <= MAX_CAPACITY:
            raise InvalidArgument("capacity", f"must be between 1 and {MAX_CAPACITY}")
        if self.co_facilitator_peer_id == self.host_peer_id:
            raise InvalidArgument("co_facilitator_peer_id", "must be another peer than the host")

    @property
    def active(self) -> bool:
        return self.series.status is SeriesStatus.ACTIVE

    @property
    def facilitators(self) -> tuple[str, ...]:
        co = self.co_facilitator_peer_id
        return (self.host_peer_id,) if co is None else (self.host_peer_id, co)

    def occurrences(self) -> list[Occurrence]:
        return self.series.occurrences()

    def occurrence(self, index: int) -> Occurrence:
        for occurrence in self.series.occurrences():
            if occurrence.index == index:
                return occurrence
        raise InvalidArgument("occurrence_index", "is not a meeting of this group")

    def cancelled(self) -> Group:
        series = replace(self.series, status=SeriesStatus.CANCELLED, sequence=self.series.sequence + 1)
        return replace(self, series=series)


def occurrence_id(group_id: str, index: int) -> str:
    """A meeting's id, as a series occurrence's: ``<group id>.<index>``."""
    return f"{group_id}.{index}"


@dataclass(frozen=True, slots=True)
class RosterEntry:
    """One participant's place: ``status``, arrival ``seq`` (the order), an
    enrolment id (what events carry instead of the reference), when (epoch ms)."""

    participant_ref: str
    status: Enrolment
    seq: int
    enrolment_id: str
    at_ms: int

    def encode(self) -> str:
        return f"{self.status.value}|{self.seq}|{self.enrolment_id}|{self.at_ms}"

    @classmethod
    def decode(cls, ref: str, raw: str) -> RosterEntry:
        status, seq, enrolment_id, at_ms = raw.split("|")
        return cls(ref, Enrolment(status), int(seq), enrolment_id, int(at_ms))


def roster_order(entries: list[RosterEntry]) -> list[RosterEntry]:
    """Enrolled, then waiting, then withdrawn; each by arrival."""
    rank = {Enrolment.ENROLLED: 0, Enrolment.WAITING: 1, Enrolment.WITHDRAWN: 2}
    return sorted(entries, key=lambda e: (rank[e.status], e.seq))
