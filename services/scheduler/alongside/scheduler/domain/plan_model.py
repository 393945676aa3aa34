"""Inputs and outputs of the weekly planner, shared by CP-SAT and greedy."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from alongside.kit.errors import InvalidArgument

from . import validation as v
from .model import Availability, Interval, Urgency

WEEK = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class PlanRequest:
    """An unscheduled first session with an already-matched peer."""

    request_id: str
    peer_id: str
    urgency: Urgency
    duration: timedelta
    earliest: datetime
    participant: Availability | None = None

    def __post_init__(self) -> None:
        v.require_text(self.request_id, "request_id")
        v.require_duration(self.duration, "duration")
        v.require_aware(self.earliest, "earliest")


@dataclass(frozen=True, slots=True)
class PlanPeer:
    """A peer's calendar: weekly windows, live bookings and time off."""

    peer_id: str
    availability: Availability
    bookings: tuple[Interval, ...] = ()
    time_off: tuple[Interval, ...] = ()


@dataclass(frozen=True, slots=True)
class Placement:
    request_id: str
    peer_id: str
    slot: Interval


@dataclass(frozen=True, slots=True)
class PlanWeights:
    """Soft-goal weights, in objective units.

    ``urgent_per_minute`` charges each minute an URGENT session starts after
    its earliest time; ``peak_per_session`` charges each session on a peer's
    busiest day, which spreads the load. The weight of one placed session is
    derived per instance (see ``planning.place_weight``) so that placing one
    more session always beats any saving in the soft goals.
    """

    urgent_per_minute: int = 1
    peak_per_session: int = 15


@dataclass(frozen=True)
class PlanResult:
    """``objective``/``bound``/``gap`` are None where a method has no bound."""

    placements: tuple[Placement, ...]
    unplaced: dict[str, str] = field(default_factory=dict)
    objective: float | None = None
    bound: float | None = None
    gap: float | None = None
    status: str = "UNKNOWN"
    seconds: float = 0.0

    def slot_of(self, request_id: str) -> Interval | None:
        for placement in self.placements:
            if placement.request_id == request_id:
                return placement.slot
        return None


def check_inputs(requests: list[PlanRequest], peers: list[PlanPeer], week_start: datetime) -> dict[str, PlanPeer]:
    """Unique ids, known peers, an aware week start; returns peers by id."""
    v.require_aware(week_start, "week_start")
    by_id = {peer.peer_id: peer for peer in peers}
    if len(by_id) != len(peers):
        raise InvalidArgument("peers.peer_id", "must be unique")
    if len({r.request_id for r in requests}) != len(requests):
        raise InvalidArgument("requests.request_id", "must be unique")
    if any(r.peer_id not in by_id for r in requests):
        raise InvalidArgument("requests.peer_id", "refers to a peer not in the plan")
    return by_id
