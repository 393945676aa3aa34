"""The GAP engine: pair-dependent or mixed loads, where flow is not exact.

1. Lagrangian heuristic (``lagrange.py``): a bound valid for the full
   problem, prices for every peer, and a greedy incumbent.
2. Reduced-cost fixing: with the best multipliers, a solution that uses arc
   ``(i, j)`` gains at most ``L - best[i] + r[i, j]``. Arcs where that is
   not above the incumbent's gain cannot be in a better solution, so
   dropping them keeps ``OPT <= max(incumbent, OPT on kept arcs)`` and
   CP-SAT's bound on the kept arcs stays a bound for the full problem.
   When too many arcs survive, the model is cut further to each
   participant's best few by reduced gain; CP-SAT's bound then says nothing
   about the full problem and only the Lagrangian bound is reported.
3. CP-SAT on the kept arcs, hinted with the incumbent, until the deadline.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from alongside.matcher.domain.solver.arcs import IntArray, Limits, arcs_from_mask, limits_of
from alongside.matcher.domain.solver.bounds import DenseGap
from alongside.matcher.domain.solver.cpsat import CpResult, OnSolution, add_minmax, build_model, run
from alongside.matcher.domain.solver.gains import Gains, total_penalty
from alongside.matcher.domain.solver.lagrange import Lagrangian, lagrangian
from alongside.matcher.domain.solver.outcome import Outcome
from alongside.matcher.domain.solver.problem import BatchProblem
from alongside.matcher.domain.solver.progress import CP_SAT, FAIRNESS, LAGRANGIAN, Progress, Report, silent
from alongside.matcher.domain.solver.prune import start_mask

GAP_K = 8  # start set of the Lagrangian iterations (see prune.start_mask)
LAGRANGE_SHARE = 0.3
LAGRANGE_ROUNDS = 40
# When every arc fits in the CP-SAT model, its own bound is valid for the whole
# problem, so the Lagrangian is only needed for a hint and gets a short run.
SMALL_SHARE = 0.05
SMALL_ROUNDS = 4
MAX_CP_ARCS = 40_000
CP_K = 3
MINMAX_SHARE = 0.4
RESERVE_S = 0.15  # time kept back for reading the solution and reporting


@dataclass(frozen=True)
class Kept:
    mask: NDArray[np.bool_]
    safe: bool


def solve_gap(problem: BatchProblem, gains: Gains, *, deadline: float, seed: int, report: Report = silent) -> Outcome:
    """Best assignment found by the deadline, with a bound valid for the full problem."""
    report(Progress(LAGRANGIAN))
    limits = limits_of(problem)
    now = time.perf_counter()
    candidate = start_mask(gains.cost, gains.usable, GAP_K)
    small = int(gains.usable.sum()) <= MAX_CP_ARCS
    share, rounds = (SMALL_SHARE, SMALL_ROUNDS) if small else (LAGRANGE_SHARE, LAGRANGE_ROUNDS)
    lag = lagrangian(gains, DenseGap.of(gains), limits, candidate, now + share * (deadline - now), rounds)
    kept = _fix(lag, gains, lag.gain)
    arcs = arcs_from_mask(gains, kept.mask)
    model = build_model(arcs, limits)
    budget = deadline - RESERVE_S - time.perf_counter()
    share = 1.0 - MINMAX_SHARE if problem.side.fairness == "minmax" else 1.0
    penalty = total_penalty(problem)
    report(Progress(CP_SAT, 0, lag.gain - penalty, lag.full.value - penalty))
    cp = run(model, arcs, lag.assignment, share * budget, seed, _cp_report(report, gains, lag, kept.safe, penalty))
    best, best_gain = _better(gains, lag, cp)
    bound_gain, source = _bound(lag, cp, kept, gains, best_gain)
    optimal = kept.safe and cp.status == "OPTIMAL" and cp.assignment is best
    engine = "cpsat" if kept.safe else "cpsat+pruned"
    if problem.side.fairness == "minmax":
        report(Progress(FAIRNESS, 0, best_gain - penalty, bound_gain - penalty))
        best = _minmax(problem, lag, limits, best, gains, deadline, seed)
        optimal, engine = False, engine + "+minmax"
    bound = bound_gain - penalty
    status = "OPTIMAL" if optimal else "FEASIBLE"
    return Outcome(best, None if optimal else bound, status, engine, source)


def _cp_report(report: Report, gains: Gains, lag: Lagrangian, safe: bool, penalty: float) -> OnSolution:
    """CP-SAT's solutions in objective units; its bound only where it holds for the full problem."""
    n = gains.gain.shape[0]

    def on_solution(count: int, objective: float, bound: float) -> None:
        value = max(objective / gains.scale, lag.gain)
        full = min(lag.full.value, bound / gains.scale + n * gains.rounding) if safe else lag.full.value
        report(Progress(CP_SAT, count, value - penalty, max(full, value) - penalty))

    return on_solution


def _fix(lag: Lagrangian, gains: Gains, threshold: float) -> Kept:
    """Keep the arcs of solutions that may gain more than ``threshold``; cut to ``CP_K`` per row if too many."""
    slack = lag.full.value - threshold + 1e-9 * max(1.0, abs(lag.full.value))
    reach = lag.full.reduced >= (lag.full.best - slack)[:, None]
    mask = gains.usable & reach
    mask[_incumbent_rows(lag.assignment), lag.assignment[lag.assignment >= 0]] = True
    if int(mask.sum()) <= MAX_CP_ARCS:
        return Kept(mask, True)
    ranked = np.where(mask, lag.full.reduced, -np.inf)
    m = ranked.shape[1]
    k = min(CP_K, m)
    kth = np.partition(ranked, m - k, axis=1)[:, m - k]
    cut = mask & (ranked >= kth[:, None])
    cut[_incumbent_rows(lag.assignment), lag.assignment[lag.assignment >= 0]] = True
    return Kept(cut, False)


def _incumbent_rows(assignment: IntArray) -> IntArray:
    return np.flatnonzero(assignment >= 0)


def _gain(gains: Gains, assignment: IntArray) -> float:
    rows = _incumbent_rows(assignment)
    return float(gains.gain[rows, assignment[rows]].sum())


def _better(gains: Gains, lag: Lagrangian, cp: CpResult) -> tuple[IntArray, float]:
    if cp.assignment is not None and _gain(gains, cp.assignment) >= lag.gain:
        return cp.assignment, _gain(gains, cp.assignment)
    return lag.assignment, lag.gain


def _bound(lag: Lagrangian, cp: CpResult, kept: Kept, gains: Gains, best_gain: float) -> tuple[float, str]:
    """Tighter of the Lagrangian bound and, if fixing was safe, CP-SAT's bound on the kept arcs."""
    bound, source = lag.full.value, "lagrangian"
    if kept.safe and cp.assignment is not None:
        n = gains.gain.shape[0]
        kept_opt = max(lag.gain, cp.bound / gains.scale + n * gains.rounding)
        if kept_opt < bound:
            bound, source = kept_opt, "cpsat"
    return max(bound, best_gain), source


def _minmax(
    problem: BatchProblem, lag: Lagrangian, limits: Limits, best: IntArray, gains: Gains, deadline: float, seed: int
) -> IntArray:
    """Second CP-SAT pass: within the fairness tolerance of ``best``, lowest max utilisation first.

    Same definition as the flow case (``fairness.py``), but best effort:
    utilisation is in permille steps and neither pass need be proven optimal.
    Arcs are fixed again against the lower floor, since fairer solutions gain less.
    """
    rows = _incumbent_rows(best)
    best_cost = int(gains.pair_cost(rows, best[rows]).sum())
    floor_gain = best_cost - math.floor(problem.side.fairness_tolerance * best_cost)
    mask = _fix(lag, gains, floor_gain / gains.scale - gains.gain.shape[0] * gains.rounding).mask
    mask[rows, best[rows]] = True
    arcs = arcs_from_mask(gains, mask)
    model = build_model(arcs, limits)
    add_minmax(model, arcs, limits, floor_gain, utilisation=problem.side.fairness_measure == "utilisation")
    cp = run(model, arcs, best, deadline - RESERVE_S - time.perf_counter(), seed)
    return cp.assignment if cp.assignment is not None else best
