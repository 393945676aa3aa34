"""PlanWeek: place a week's unscheduled first sessions with CP-SAT.

Every request names its peer, and every constraint and objective term is
per peer, so the problem splits exactly into one independent model per
peer (see ``cpsat_model``). Solving them one by one gives the same optimum
as one big model but proves it far sooner, and the reported bound (the sum
of the parts' bounds) is tight instead of the loose bound of the joint
search.

Greedy earliest-fit warm-starts each part, and a part keeps the greedy
answer if the solver finds nothing better in its share of the time, so the
planner never scores below the baseline.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from ortools.sat.python import cp_model

from .cpsat_model import Choice, build_model
from .greedy import greedy_choice
from .model import Policy
from .plan_model import PlanPeer, PlanRequest, PlanResult, PlanWeights
from .planning import Instance, Option, Prepared, build_instance, objective_of, placements_of, unplaced_reasons

SOLVED = ("OPTIMAL", "FEASIBLE")


@dataclass(frozen=True, slots=True)
class PartResult:
    chosen: dict[str, Option]
    bound: float
    optimal: bool


def plan_week(
    requests: list[PlanRequest],
    peers: list[PlanPeer],
    week_start: datetime,
    policy: Policy,
    time_limit_s: float = 10.0,
    weights: PlanWeights | None = None,
) -> PlanResult:
    """Solve; report placements, reasons for the rest, objective, bound, gap, time."""
    began = time.perf_counter()
    instance = build_instance(requests, peers, week_start, policy, weights or PlanWeights())
    warm = greedy_choice(instance)
    parts = sorted(_parts(instance), key=len)
    deadline = began + time_limit_s
    results = []
    for left, items in zip(range(len(parts), 0, -1), parts, strict=True):
        budget = max(0.0, deadline - time.perf_counter()) / left
        results.append(solve_part(instance, items, warm, budget))
    return _combine(instance, results, began)


def solve_part(instance: Instance, items: list[Prepared], warm: dict[str, Option], budget: float) -> PartResult:
    """One part to optimality or until ``budget`` seconds run out."""
    model, choices = build_model(instance, items, warm)
    solver, status = solve(model, budget)
    chosen = {key: warm[key] for key in (i.request.request_id for i in items) if key in warm}
    if status in SOLVED:
        solved = read_choice(choices, solver)
        if objective_of(instance, solved, items) >= objective_of(instance, chosen, items):
            chosen = solved
    # Without a proof, the part's bound is the trivial one: all placed, no penalty.
    bound = float(solver.best_objective_bound) if status in SOLVED else instance.place_weight * len(items)
    return PartResult(chosen, bound, status == "OPTIMAL")


def solve(model: cp_model.CpModel, time_limit_s: float) -> tuple[cp_model.CpSolver, str]:
    """Two workers (the target machine has two cores); returns the status name."""
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(time_limit_s, 0.01)
    solver.parameters.num_workers = 2
    solver.parameters.random_seed = 7
    status = solver.solve(model)
    return solver, solver.status_name(status)


def _parts(instance: Instance) -> list[list[Prepared]]:
    """Requests with a feasible start, grouped by peer."""
    groups: dict[str, list[Prepared]] = {}
    for item in instance.prepared:
        if item.options:
            groups.setdefault(item.request.peer_id, []).append(item)
    return list(groups.values())


def _combine(instance: Instance, results: list[PartResult], began: float) -> PlanResult:
    chosen: dict[str, Option] = {}
    for part in results:
        chosen.update(part.chosen)
    objective = float(objective_of(instance, chosen))
    bound = max(objective, sum(p.bound for p in results))
    return PlanResult(
        placements=placements_of(instance, chosen),
        unplaced=unplaced_reasons(instance, set(chosen)),
        objective=objective,
        bound=bound,
        gap=(bound - objective) / max(1.0, abs(objective)),
        status="OPTIMAL" if all(p.optimal for p in results) else "FEASIBLE",
        seconds=time.perf_counter() - began,
    )


def read_choice(choices: list[Choice], solver: cp_model.CpSolver) -> dict[str, Option]:
    chosen: dict[str, Option] = {}
    for choice in choices:
        if solver.boolean_value(choice.present):
            minute = solver.value(choice.start)
            chosen[choice.item.request.request_id] = next(o for o in choice.item.options if o.minute == minute)
    return chosen
