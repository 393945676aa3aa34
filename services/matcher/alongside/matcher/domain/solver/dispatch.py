"""``solve``: validate, pick the engine, report the result.

Uniform load (every usable pair has the same acuity load) keeps the problem
a network flow, solved exactly, with category caps, intake caps and min-max
fairness inside the flow. Anything else is a generalised assignment
problem and goes to CP-SAT (see ``gap.py``).
"""

from __future__ import annotations

import time

import numpy as np

from alongside.kit.errors import InvalidArgument
from alongside.matcher.domain.solver.fairness import minmax_flow
from alongside.matcher.domain.solver.flow import FlowSolver, base_slots, uniform_load
from alongside.matcher.domain.solver.gains import Gains, objective_of, prepare
from alongside.matcher.domain.solver.gap import solve_gap
from alongside.matcher.domain.solver.outcome import Outcome
from alongside.matcher.domain.solver.problem import BatchProblem, BatchResult, relative_gap
from alongside.matcher.domain.solver.progress import FLOW, Progress, Report, silent
from alongside.matcher.domain.solver.tighten import Relaxation
from alongside.matcher.domain.solver.validate import validate


def solve(
    problem: BatchProblem,
    *,
    time_limit_s: float = 10.0,
    seed: int = 0,
    report: Report = silent,
    relaxation: Relaxation = "knapsack",
) -> BatchResult:
    """The best assignment found within ``time_limit_s`` (flow cases ignore it: they are fast and exact).

    ``report`` hears each phase and each CP-SAT solution, from this thread (``progress.py``).
    ``relaxation`` chooses the GAP engine's bound (``tighten.py``); ``"lp"`` is the earlier
    engine, kept for comparison.
    """
    # A solver's own elapsed time is not business time: it is measured here, not passed in.
    start = time.perf_counter()
    validate(problem)
    if not time_limit_s > 0:
        raise InvalidArgument("time_limit_s", "must be positive")
    gains = prepare(problem)
    unit = uniform_load(gains)
    if not gains.usable.any():
        outcome = Outcome(np.full(problem.n, -1, dtype=np.int64), None, "OPTIMAL", "none")
    elif unit is not None:
        report(Progress(FLOW))
        outcome = _solve_flow(problem, gains, unit)
    else:
        deadline = start + time_limit_s
        outcome = solve_gap(problem, gains, deadline=deadline, seed=seed, report=report, relaxation=relaxation)
    return _result(problem, outcome, time.perf_counter() - start)


def _solve_flow(problem: BatchProblem, gains: Gains, unit: int) -> Outcome:
    solver = FlowSolver(problem, gains)
    if problem.side.fairness == "minmax":
        sol, engine = minmax_flow(problem, solver, unit), "flow+minmax"
    else:
        sol, engine = solver.solve(base_slots(problem, unit)), "flow"
    if solver.started_pruned:
        engine += "+pruned"
    return Outcome(sol.assignment, None, "OPTIMAL", engine)


def _result(problem: BatchProblem, outcome: Outcome, seconds: float) -> BatchResult:
    objective = objective_of(problem, outcome.assignment)
    optimal = outcome.status == "OPTIMAL"
    bound = objective if optimal or outcome.bound is None else max(objective, outcome.bound)
    return BatchResult(
        assignment=outcome.assignment.astype(np.int64),
        objective=objective,
        bound=bound,
        gap=0.0 if optimal else relative_gap(objective, bound),
        status=outcome.status,
        engine=outcome.engine,
        seconds=seconds,
        bound_source="optimal" if optimal else outcome.bound_source,
    )
