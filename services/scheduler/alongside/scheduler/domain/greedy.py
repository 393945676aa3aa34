"""Greedy earliest-fit: the baseline the CP-SAT planner is measured against.

URGENT requests go first, then by earliest time and id; each takes its
earliest start that still clears the buffer and the daily cap. It is also
the CP-SAT planner's warm start.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import date, datetime

from .intervals import conflicts
from .model import Interval, Policy
from .plan_model import PlanPeer, PlanRequest, PlanResult, PlanWeights
from .planning import (
    Instance,
    Option,
    Prepared,
    build_instance,
    objective_of,
    placements_of,
    unplaced_reasons,
)


def greedy_plan(
    requests: list[PlanRequest],
    peers: list[PlanPeer],
    week_start: datetime,
    policy: Policy,
    time_limit_s: float = 0.0,
    weights: PlanWeights | None = None,
) -> PlanResult:
    """Same inputs and outputs as ``plan_week``; ``time_limit_s`` is ignored."""
    began = time.perf_counter()
    instance = build_instance(requests, peers, week_start, policy, weights or PlanWeights())
    chosen = greedy_choice(instance)
    return PlanResult(
        placements=placements_of(instance, chosen),
        unplaced=unplaced_reasons(instance, set(chosen)),
        objective=float(objective_of(instance, chosen)),
        status="GREEDY",
        seconds=time.perf_counter() - began,
    )


def greedy_choice(instance: Instance) -> dict[str, Option]:
    """request_id -> chosen option, by earliest fit in priority order."""
    taken: dict[str, list[Interval]] = {}
    loads: Counter[tuple[str, date]] = Counter(instance.existing)
    chosen: dict[str, Option] = {}
    for item in sorted(instance.prepared, key=_priority):
        peer_id = item.request.peer_id
        option = _first_fit(item, taken.get(peer_id, []), loads, instance.cap)
        if option is not None:
            chosen[item.request.request_id] = option
            taken.setdefault(peer_id, []).append(option.slot)
            loads[(peer_id, option.day)] += 1
    return chosen


def _priority(item: Prepared) -> tuple[bool, int, str]:
    return (not item.urgent, item.earliest_minute, item.request.request_id)


def _first_fit(item: Prepared, taken: list[Interval], loads: Counter[tuple[str, date]], cap: int) -> Option | None:
    peer_id = item.request.peer_id
    for option in item.options:
        if loads[(peer_id, option.day)] >= cap:
            continue
        if not conflicts(option.slot, taken, item.query.buffer):
            return option
    return None
