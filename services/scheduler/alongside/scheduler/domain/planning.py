"""The planner's instance: feasible starts per request, and the objective.

Both planners (CP-SAT and greedy) solve the same ``Instance`` and are scored
by the same ``objective_of``, so the benchmark compares like with like.
Times inside the instance are whole minutes since ``week_start``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property

from . import tz as tzx
from . import validation as v
from .booking import EXPLANATIONS, Blocker, diagnose
from .model import Interval, Policy, Urgency
from .plan_model import WEEK, Placement, PlanPeer, PlanRequest, PlanWeights, check_inputs
from .slots import SlotQuery, iter_slots

CAPACITY_REASON = "the peer's feasible times this week went to other sessions or the daily cap"


@dataclass(frozen=True, slots=True)
class Option:
    """One feasible start: minutes since week start, and the peer-local day."""

    minute: int
    day: date
    slot: Interval


@dataclass(frozen=True, slots=True)
class Prepared:
    request: PlanRequest
    query: SlotQuery
    options: tuple[Option, ...]
    earliest_minute: int
    blocker: Blocker | None

    @property
    def urgent(self) -> bool:
        return self.request.urgency is Urgency.URGENT

    @property
    def unplaced_lateness(self) -> int:
        """An unplaced URGENT request counts as later than its latest start.

        Without this, leaving an URGENT request out would cost nothing in
        lateness, and the solver could prefer placing a routine one instead.
        """
        return self.options[-1].minute - self.earliest_minute + 1 if self.options else 0


@dataclass(frozen=True)
class Instance:
    week_start: datetime
    prepared: tuple[Prepared, ...]
    existing: Counter[tuple[str, date]]
    cap: int
    buffer_minutes: int
    weights: PlanWeights

    @property
    def place_weight(self) -> int:
        """Larger than every soft penalty together, so placing wins outright."""
        late = sum(p.unplaced_lateness for p in self.prepared if p.urgent and p.options)
        peaks = self.weights.peak_per_session * self.cap * len(self.planned_peers)
        return 1 + self.weights.urgent_per_minute * late + peaks

    @cached_property
    def planned_peers(self) -> set[str]:
        """Peers with at least one request that can be placed."""
        return {p.request.peer_id for p in self.prepared if p.options}

    @cached_property
    def existing_by_peer(self) -> dict[str, dict[date, int]]:
        """Existing bookings per peer-local day, indexed by peer."""
        index: dict[str, dict[date, int]] = {}
        for (peer_id, day), count in self.existing.items():
            index.setdefault(peer_id, {})[day] = count
        return index


def build_instance(
    requests: list[PlanRequest],
    peers: list[PlanPeer],
    week_start: datetime,
    policy: Policy,
    weights: PlanWeights,
) -> Instance:
    """Validate, then list every feasible start of every request this week."""
    by_id = check_inputs(requests, peers, week_start)
    prepared = tuple(_prepare(r, by_id[r.peer_id], week_start, policy) for r in requests)
    existing: Counter[tuple[str, date]] = Counter()
    for peer in peers:
        zone = v.zone(peer.availability.tz, "peers.time_zone")
        for booking in peer.bookings:
            existing[(peer.peer_id, tzx.local_of(booking.start, zone).date())] += 1
    buffer_minutes = int(policy.buffer.total_seconds() // 60)
    return Instance(week_start, prepared, existing, policy.max_sessions_per_day, buffer_minutes, weights)


def _prepare(request: PlanRequest, peer: PlanPeer, week_start: datetime, policy: Policy) -> Prepared:
    week_end = week_start + WEEK
    earliest = max(week_start, request.earliest)
    query = SlotQuery(
        peer=peer.availability,
        participant=request.participant,
        duration=request.duration,
        earliest=min(earliest, week_end - policy.step),
        horizon_end=week_end,
        buffer=policy.buffer,
        step=policy.step,
        daily_cap=policy.max_sessions_per_day,
        bookings=peer.bookings,
        time_off=peer.time_off,
    )
    if earliest >= week_end:
        return Prepared(request, query, (), _minutes(week_start, earliest), Blocker.OUTSIDE_HORIZON)
    zone = v.zone(peer.availability.tz, "peers.time_zone")
    options = tuple(
        Option(_minutes(week_start, slot.start), tzx.local_of(slot.start, zone).date(), slot)
        for slot in iter_slots(query)
    )
    blocker = None if options else diagnose(query)
    return Prepared(request, query, options, _minutes(week_start, earliest), blocker)


def _minutes(week_start: datetime, instant: datetime) -> int:
    return int((instant - week_start).total_seconds() // 60)


def objective_of(instance: Instance, chosen: dict[str, Option], items: Sequence[Prepared] | None = None) -> int:
    """place_weight per session, minus URGENT lateness, minus daily peaks.

    Over ``items`` (default: all) and their peers. It is a sum of per-peer
    terms, so the parts of a plan add up to the whole; it must equal the
    CP-SAT objective for the same choice (a test checks it).
    """
    weights = instance.weights
    total = 0
    loads: dict[str, Counter[date]] = {}
    for item in items if items is not None else instance.prepared:
        if not item.options:
            continue
        option = chosen.get(item.request.request_id)
        if item.urgent:
            late = item.unplaced_lateness if option is None else option.minute - item.earliest_minute
            total -= weights.urgent_per_minute * late
        peer_loads = loads.setdefault(item.request.peer_id, Counter())
        if option is not None:
            total += instance.place_weight
            peer_loads[option.day] += 1
    for peer_id, peer_loads in loads.items():
        total -= weights.peak_per_session * peak_load(instance, peer_id, peer_loads)
    return total


def peak_load(instance: Instance, peer_id: str, loads: Counter[date]) -> int:
    """Busiest day of a peer, counting existing bookings and new sessions."""
    existing = instance.existing_by_peer.get(peer_id, {})
    return max((loads[d] + existing.get(d, 0) for d in {*loads, *existing}), default=0)


def unplaced_reasons(instance: Instance, placed: set[str]) -> dict[str, str]:
    """request_id -> why it was not placed, naming the constraint."""
    reasons: dict[str, str] = {}
    for item in instance.prepared:
        if item.request.request_id in placed:
            continue
        blocker = item.blocker
        reasons[item.request.request_id] = EXPLANATIONS[blocker] if blocker else CAPACITY_REASON
    return reasons


def placements_of(instance: Instance, chosen: dict[str, Option]) -> tuple[Placement, ...]:
    return tuple(
        Placement(p.request.request_id, p.request.peer_id, chosen[p.request.request_id].slot)
        for p in instance.prepared
        if p.request.request_id in chosen
    )
