"""The CP-SAT model of one group of requests (one peer's, in practice).

Per request with at least one feasible start:

* ``present`` (placed or not), ``start`` over its feasible minutes and one
  literal per peer-local day; an optional fixed-size interval of length
  duration + buffer, so NoOverlap per peer enforces the buffer too;
* hard: one day if placed (``add_choice``), NoOverlap per peer
  (``add_no_overlap``), the daily cap (``add_daily_cap``), plus a redundant
  per-day packing bound that speeds up the proof (``add_day_packing``);
* objective: ``place_weight`` per placed session (larger than all soft
  terms together), minus URGENT lateness (``urgent_lateness``), minus each
  peer's busiest-day load (``daily_peaks``).

Each rule is one function so it can be tested on a tiny instance.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ortools.sat.python import cp_model

from .planning import Instance, Option, Prepared


@dataclass(frozen=True)
class Choice:
    """The decision variables of one request."""

    item: Prepared
    present: cp_model.IntVar
    start: cp_model.IntVar
    days: dict[date, cp_model.IntVar]
    interval: cp_model.IntervalVar


def build_model(
    instance: Instance, items: list[Prepared], warm: dict[str, Option]
) -> tuple[cp_model.CpModel, list[Choice]]:
    """The full model for ``items`` (all with options), hinted with ``warm``."""
    model = cp_model.CpModel()
    choices = [add_choice(model, item, instance.buffer_minutes) for item in items]
    add_no_overlap(model, choices)
    add_daily_cap(model, choices, instance)
    add_day_packing(model, choices, instance)
    penalty = urgent_lateness(model, choices, instance) + daily_peaks(model, choices, instance)
    model.maximize(instance.place_weight * sum(c.present for c in choices) - penalty)
    add_hint(model, choices, warm)
    return model, choices


def add_choice(model: cp_model.CpModel, item: Prepared, buffer_minutes: int) -> Choice:
    """Start over the feasible minutes; exactly one day literal iff placed."""
    name = item.request.request_id
    present = model.new_bool_var(f"placed[{name}]")
    start = model.new_int_var_from_domain(
        cp_model.Domain.from_values([o.minute for o in item.options]), f"start[{name}]"
    )
    by_day: dict[date, list[int]] = {}
    for option in item.options:
        by_day.setdefault(option.day, []).append(option.minute)
    days = {day: model.new_bool_var(f"day[{name},{day}]") for day in by_day}
    model.add(sum(days.values()) == present)
    for day, minutes in by_day.items():
        model.add_linear_expression_in_domain(start, cp_model.Domain.from_values(minutes)).only_enforce_if(days[day])
    length = int(item.request.duration.total_seconds() // 60) + buffer_minutes
    interval = model.new_optional_fixed_size_interval_var(start, length, present, f"slot[{name}]")
    return Choice(item, present, start, days, interval)


def add_no_overlap(model: cp_model.CpModel, choices: list[Choice]) -> None:
    """A peer never has two sessions within the buffer of each other.

    Each interval already ends ``buffer`` minutes after its session, so plain
    NoOverlap leaves at least the buffer between consecutive sessions.
    """
    by_peer: dict[str, list[cp_model.IntervalVar]] = {}
    for choice in choices:
        by_peer.setdefault(choice.item.request.peer_id, []).append(choice.interval)
    for intervals in by_peer.values():
        if len(intervals) > 1:
            model.add_no_overlap(intervals)


def add_daily_cap(model: cp_model.CpModel, choices: list[Choice], instance: Instance) -> None:
    """Existing bookings plus new sessions stay within the cap each local day."""
    for (peer_id, day), literals in _day_literals(choices).items():
        room = instance.cap - instance.existing[(peer_id, day)]
        model.add(sum(literals) <= room)


def add_day_packing(model: cp_model.CpModel, choices: list[Choice], instance: Instance) -> None:
    """Redundant: no more sessions on a day than its start times can hold.

    Implied by NoOverlap, but NoOverlap over optional intervals relaxes
    badly; stating the count bound lets the solver prove "no more fit" in
    milliseconds instead of searching for seconds.
    """
    starts: dict[tuple[str, date], set[int]] = {}
    lengths: dict[tuple[str, date], int] = {}
    for choice in choices:
        length = int(choice.item.request.duration.total_seconds() // 60) + instance.buffer_minutes
        for option in choice.item.options:
            key = (choice.item.request.peer_id, option.day)
            starts.setdefault(key, set()).add(option.minute)
            lengths[key] = min(lengths.get(key, length), length)
    for key, literals in _day_literals(choices).items():
        model.add(sum(literals) <= max_spaced(sorted(starts[key]), lengths[key]))


def max_spaced(points: list[int], gap: int) -> int:
    """Most points pairwise at least ``gap`` apart (greedy is optimal on a line)."""
    count, last = 0, None
    for point in points:
        if last is None or point - last >= gap:
            count, last = count + 1, point
    return count


def urgent_lateness(model: cp_model.CpModel, choices: list[Choice], instance: Instance) -> cp_model.LinearExpr:
    """Minutes each URGENT session starts after its earliest time.

    An unplaced one is charged one minute more than its latest start.
    """
    terms = []
    for choice in choices:
        if not choice.item.urgent:
            continue
        worst = choice.item.unplaced_lateness
        late = model.new_int_var(0, worst, f"late[{choice.item.request.request_id}]")
        model.add(late == choice.start - choice.item.earliest_minute).only_enforce_if(choice.present)
        model.add(late == worst).only_enforce_if(~choice.present)
        terms.append(late)
    return instance.weights.urgent_per_minute * sum(terms)


def daily_peaks(model: cp_model.CpModel, choices: list[Choice], instance: Instance) -> cp_model.LinearExpr:
    """Each peer's busiest-day load; charging it spreads sessions over days."""
    peaks: dict[str, cp_model.IntVar] = {}
    # Existing bookings may already exceed today's cap (the cap was lowered).
    ceiling = max([instance.cap, *instance.existing.values()])
    for (peer_id, day), literals in _day_literals(choices).items():
        if peer_id not in peaks:
            peaks[peer_id] = model.new_int_var(0, ceiling, f"peak[{peer_id}]")
        model.add(peaks[peer_id] >= instance.existing[(peer_id, day)] + sum(literals))
    for peer_id, peak in peaks.items():
        for count in instance.existing_by_peer.get(peer_id, {}).values():
            model.add(peak >= count)
    return instance.weights.peak_per_session * sum(peaks.values())


def add_hint(model: cp_model.CpModel, choices: list[Choice], warm: dict[str, Option]) -> None:
    """Warm start from the greedy plan (a complete, feasible assignment)."""
    for choice in choices:
        option = warm.get(choice.item.request.request_id)
        model.add_hint(choice.present, option is not None)
        model.add_hint(choice.start, option.minute if option else choice.item.options[0].minute)
        for day, literal in choice.days.items():
            model.add_hint(literal, option is not None and option.day == day)


def _day_literals(choices: list[Choice]) -> dict[tuple[str, date], list[cp_model.IntVar]]:
    grouped: dict[tuple[str, date], list[cp_model.IntVar]] = {}
    for choice in choices:
        for day, literal in choice.days.items():
            grouped.setdefault((choice.item.request.peer_id, day), []).append(literal)
    return grouped
