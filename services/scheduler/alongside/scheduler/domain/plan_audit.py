"""An independent check of a plan against the hard rules.

Tests and the benchmark run every plan, CP-SAT's and greedy's, through it.
It re-checks overlaps, buffers and caps with the plain interval rule rather
than the CP-SAT constraints, so a modelling slip shows up here.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

from . import tz as tzx
from . import validation as v
from .intervals import conflicts
from .model import Interval
from .plan_model import Placement
from .planning import Instance


def audit(instance: Instance, placements: tuple[Placement, ...]) -> list[str]:
    """Every hard rule a plan breaks (empty for a valid plan); used by tests."""
    problems: list[str] = []
    by_request = {p.request.request_id: p for p in instance.prepared}
    taken: dict[str, list[Interval]] = {}
    day_load: Counter[tuple[str, date]] = Counter(instance.existing)
    for placement in placements:
        item = by_request[placement.request_id]
        if placement.slot not in {o.slot for o in item.options}:
            problems.append(f"{placement.request_id}: not a feasible start")
        buffer = item.query.buffer
        if conflicts(placement.slot, taken.get(placement.peer_id, []), buffer):
            problems.append(f"{placement.request_id}: overlaps another new session")
        taken.setdefault(placement.peer_id, []).append(placement.slot)
        zone = v.zone(item.query.peer.tz)
        key = (placement.peer_id, tzx.local_of(placement.slot.start, zone).date())
        day_load[key] += 1
        if day_load[key] > instance.cap:
            problems.append(f"{placement.request_id}: daily cap exceeded")
    return problems
