"""CP-SAT model of the generalised assignment over a set of arcs.

One Boolean per arc (variable index = arc index). Constraints: at most one
arc per participant; per peer, load within capacity, count within the
intake cap, category count within the category cap (each only where it can
bind). Objective: maximise the integer gain. The model is written straight
into its proto (fields documented in ``cp_model.proto``), because creating
tens of thousands of variables one Python call at a time costs seconds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from alongside.matcher.domain.solver.arcs import NO_LIMIT, Arcs, IntArray, Limits

WORKERS = 2  # the machine has two cores
UTILISATION_STEPS = 1000  # min-max utilisation is measured in permille


# Called on each solution CP-SAT finds: (solutions so far, objective, best bound), in the model's units.
OnSolution = Callable[[int, float, float], None]


class _Solutions(cp_model.CpSolverSolutionCallback):  # type: ignore[misc]
    def __init__(self, on_solution: OnSolution) -> None:
        super().__init__()
        self._on_solution, self.count = on_solution, 0

    def on_solution_callback(self) -> None:
        self.count += 1
        self._on_solution(self.count, float(self.objective_value), float(self.best_objective_bound))


@dataclass(frozen=True)
class CpResult:
    """``assignment`` is None when no solution was found; ``bound`` is in integer gain units."""

    assignment: IntArray | None
    status: str
    bound: float


def build_model(arcs: Arcs, limits: Limits) -> cp_model.CpModel:
    model = cp_model.CpModel()
    proto = model.proto
    if arcs.size:
        proto.merge_text_format("variables { domain: [0, 1] } " * arcs.size)
    for group in _groups(arcs.rows):
        if group.size > 1:
            proto.constraints.add().at_most_one.literals.extend(group.tolist())
    for group in _groups(arcs.cols, sort=True):
        _peer_limits(model, arcs, limits, group)
    proto.objective.vars.extend(range(arcs.size))
    proto.objective.coeffs.extend((-arcs.cost).tolist())
    proto.objective.scaling_factor = -1.0  # CP-SAT minimises; report the maximised gain
    return model


def add_minmax(model: cp_model.CpModel, arcs: Arcs, limits: Limits, floor_gain: int, *, utilisation: bool) -> None:
    """Keep the gain at least ``floor_gain``; minimise the largest peer load (or utilisation, in
    permille), then maximise gain."""
    proto = model.proto
    t = len(proto.variables)
    top = UTILISATION_STEPS if utilisation else int(limits.capacity.max(initial=0))
    proto.variables.add().domain.extend([0, top])
    for group in _groups(arcs.cols, sort=True):
        cap = int(limits.capacity[arcs.cols[group[0]]])
        if utilisation:
            _linear(model, group, UTILISATION_STEPS * arcs.load[group], upper=0, extra=(t, -cap))
        else:
            _linear(model, group, arcs.load[group], upper=0, extra=(t, -1))
    _linear(model, np.arange(arcs.size), arcs.cost, upper=None, lower=floor_gain)
    weight = int(arcs.cost.sum()) + 1
    proto.objective.vars.append(t)
    proto.objective.coeffs.append(weight)
    proto.objective.scaling_factor = 1.0


def run(
    model: cp_model.CpModel,
    arcs: Arcs,
    hint: IntArray,
    seconds: float,
    seed: int,
    on_solution: OnSolution | None = None,
    workers: int = WORKERS,
    work: float | None = None,
    presolve: bool = True,
) -> CpResult:
    """Solve from ``hint`` (peer per participant, -1 unmatched) within ``seconds``, on ``workers`` threads,
    and within ``work`` (CP-SAT's deterministic time, which a busy machine does not shorten) if given.
    ``presolve=False`` skips CP-SAT's presolve (on small models it can take longer than the search)."""
    proto = model.proto
    on = (hint[arcs.rows] == arcs.cols).astype(np.int64)
    proto.solution_hint.vars.extend(range(arcs.size))
    proto.solution_hint.values.extend(on.tolist())
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(seconds, 0.05)
    solver.parameters.num_workers = workers
    if work is not None:
        solver.parameters.max_deterministic_time = work
    solver.parameters.cp_model_presolve = presolve
    solver.parameters.random_seed = seed
    callback = None if on_solution is None else _Solutions(on_solution)
    status = solver.status_name(solver.solve(model, callback))
    if status not in ("OPTIMAL", "FEASIBLE"):
        return CpResult(None, status, float("inf"))
    values = np.asarray(solver.response_proto.solution, dtype=np.int64)[: arcs.size]
    assignment = np.full(hint.size, -1, dtype=np.int64)
    chosen = np.flatnonzero(values > 0)
    assignment[arcs.rows[chosen]] = arcs.cols[chosen]
    return CpResult(assignment, status, float(solver.best_objective_bound))


def _peer_limits(model: cp_model.CpModel, arcs: Arcs, limits: Limits, group: IntArray) -> None:
    j = int(arcs.cols[group[0]])
    loads = arcs.load[group]
    if int(loads.sum()) > int(limits.capacity[j]):
        _linear(model, group, loads, upper=int(limits.capacity[j]))
    if limits.intake[j] < NO_LIMIT and group.size > int(limits.intake[j]):
        _linear(model, group, np.ones(group.size, dtype=np.int64), upper=int(limits.intake[j]))
    cat = group[limits.category[arcs.rows[group]]]
    if limits.category_cap[j] < NO_LIMIT and cat.size > int(limits.category_cap[j]):
        _linear(model, cat, np.ones(cat.size, dtype=np.int64), upper=int(limits.category_cap[j]))


def _linear(
    model: cp_model.CpModel,
    index: IntArray,
    coeffs: IntArray,
    *,
    upper: int | None,
    lower: int | None = None,
    extra: tuple[int, int] | None = None,
) -> None:
    linear = model.proto.constraints.add().linear
    linear.vars.extend(index.tolist())
    linear.coeffs.extend(coeffs.tolist())
    if extra is not None:
        linear.vars.append(extra[0])
        linear.coeffs.append(extra[1])
    big = int(NO_LIMIT)
    linear.domain.extend([-big if lower is None else lower, big if upper is None else upper])


def _groups(keys: IntArray, *, sort: bool = False) -> list[IntArray]:
    """Arc indices grouped by equal key (keys already sorted unless ``sort``)."""
    order = np.argsort(keys, kind="stable") if sort else np.arange(keys.size)
    ordered = keys[order]
    cuts = np.flatnonzero(ordered[1:] != ordered[:-1]) + 1
    return np.split(order, cuts) if keys.size else []
