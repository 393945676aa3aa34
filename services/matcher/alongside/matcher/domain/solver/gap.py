"""The GAP engine: pair-dependent or mixed loads, where flow is not exact.

1. LP Lagrangian (``lagrange.py``, capacity relaxed): the LP bound, prices
   for every peer, a greedy incumbent, and reduced-cost fixing by it: a
   solution that uses arc ``(i, j)`` gains at most ``L - best[i] + r[i, j]``;
   arcs where that is not above the incumbent's gain cannot be in a better
   solution, so dropping them keeps ``OPT <= max(incumbent, OPT on kept
   arcs)`` and CP-SAT's bound on the kept arcs stays a bound for the full
   problem.
2. Knapsack Lagrangian (``relaxation="knapsack"``, the default;
   ``tighten.py``): assignment rows relaxed, one exact knapsack per peer,
   from the LP duals; a bound never weaker than the LP's, a better
   incumbent, and a second, stronger fixing. It runs only when the LP phase
   leaves a gap above ``KNAPSACK_ABOVE`` (on uniform random pairs the LP
   bound is nearly tight and CP-SAT's time is worth more) and the model
   has more than ``KNAPSACK_PAIRS`` usable pairs (CP-SAT alone proves
   smaller ones, such as OR-Library's, faster). Then local search on the
   kept arcs (``local.py``), CP-SAT on the dual's packings (``restricted.py``)
   and local search, windows of peers solved exactly by CP-SAT (``lns.py``)
   and local search again, for the incumbent; each better incumbent refixes.
   When the kept arcs are too many for CP-SAT's bound to count, the windows
   have step 3's time too. ``relaxation="lp"`` skips
   this step (the earlier engine, kept for comparison).
3. CP-SAT on the kept arcs, hinted with the incumbent, until the deadline.
   When too many arcs survive, the model is cut to each participant's best
   few; CP-SAT's bound then says nothing about the full problem and only
   the Lagrangian bound is reported.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from alongside.matcher.domain.solver import lns, local, restricted, tighten
from alongside.matcher.domain.solver.arcs import Arcs, IntArray, Limits, arcs_from_mask, limits_of
from alongside.matcher.domain.solver.bounds import DenseGap
from alongside.matcher.domain.solver.cpsat import OnSolution, add_minmax, build_model, run
from alongside.matcher.domain.solver.gains import Gains, total_penalty
from alongside.matcher.domain.solver.knapsack_lagrange import OnBound
from alongside.matcher.domain.solver.lagrange import Lagrangian, lagrangian
from alongside.matcher.domain.solver.outcome import Outcome
from alongside.matcher.domain.solver.problem import BatchProblem, relative_gap
from alongside.matcher.domain.solver.progress import CP_SAT, FAIRNESS, LAGRANGIAN, Progress, Report, silent
from alongside.matcher.domain.solver.prune import start_mask
from alongside.matcher.domain.solver.tighten import Relaxation, Tightened

GAP_K = 8  # start set of the Lagrangian iterations (see prune.start_mask)
LAGRANGE_SHARE = 0.3
LAGRANGE_ROUNDS = 40
# When every arc fits in the CP-SAT model, its own bound is valid for the whole
# problem, so the Lagrangian is only needed for a hint and gets a short run.
SMALL_SHARE = 0.05
SMALL_ROUNDS = 4
KNAPSACK_SHARE = 0.35  # of what is left after the LP Lagrangian
KNAPSACK_ABOVE = 0.005  # the knapsack phase runs when the LP phase leaves a larger gap
KNAPSACK_PAIRS = 5_000  # and on more usable pairs than this: CP-SAT proves smaller models faster alone
KNAPSACK_SMALL_SHARE = 0.15  # when every arc fits in CP-SAT, which then proves small models fast
# On a million pairs and more, the knapsack bound stays at its first evaluation (at the LP duals) and the
# incumbent at its first repairs: the windows (lns.py) make better use of the time.
WINDOWS_PAIRS = 1_000_000
WINDOWS_SHARE = 0.15
CORE_SHARE = 0.6  # of what is left after the knapsack Lagrangian, for windows (lns.py) before CP-SAT on all
MINMAX_SHARE = 0.4
LOCAL_SHARE = 0.1  # at most, of what is left, for local search on the kept arcs (local.py)
RESERVE_S = 0.15  # time kept back for reading the solution and reporting


@dataclass(frozen=True)
class Kept:
    mask: NDArray[np.bool_]
    safe: bool


def solve_gap(
    problem: BatchProblem,
    gains: Gains,
    *,
    deadline: float,
    seed: int,
    report: Report = silent,
    relaxation: Relaxation = "knapsack",
) -> Outcome:
    """Best assignment found by the deadline, with a bound valid for the full problem."""
    report(Progress(LAGRANGIAN))
    limits = limits_of(problem)
    now = time.perf_counter()
    candidate = start_mask(gains.cost, gains.usable, GAP_K)
    pairs = int(gains.usable.sum())
    small = pairs <= tighten.MAX_CP_ARCS
    share, rounds = (SMALL_SHARE, SMALL_ROUNDS) if small else (LAGRANGE_SHARE, LAGRANGE_ROUNDS)
    lag = lagrangian(gains, DenseGap.of(gains), limits, candidate, now + share * (deadline - now), rounds)
    penalty = total_penalty(problem)
    report(Progress(LAGRANGIAN, 0, lag.gain - penalty, lag.full.value - penalty))  # a first gap, at once
    # Where the LP bound is already nearly tight (uniform random pairs), CP-SAT's time is worth more.
    lp_gap = relative_gap(lag.gain - penalty, lag.full.value - penalty)
    knapsack = relaxation == "knapsack" and pairs > KNAPSACK_PAIRS and lp_gap > KNAPSACK_ABOVE
    if knapsack:
        now = time.perf_counter()
        on_bound = _knapsack_report(report, gains, penalty)
        knapsack_share = KNAPSACK_SMALL_SHARE if small else KNAPSACK_SHARE if pairs <= WINDOWS_PAIRS else WINDOWS_SHARE
        until = now + knapsack_share * (deadline - now)
        kept = tighten.by_knapsack(lag, gains, limits, until, on_bound)
    else:
        kept = tighten.by_lp(lag, gains)
    windows = knapsack and lns.wanted(kept)
    if windows:  # too many arcs for CP-SAT's bound to count: windows look for the incumbent (lns.py)
        on_lns = _cp_report(report, gains, kept, penalty, safe=False)
        now = time.perf_counter()
        share = 1.0 - MINMAX_SHARE if problem.side.fairness == "minmax" else 1.0
        kept = lns.improve_kept(kept, gains, limits, now + share * (deadline - RESERVE_S - now), seed, on_lns)
    elif knapsack and not kept.closed:
        kept = _local(kept, gains, limits, deadline)
        kept = restricted.improve(kept, gains, limits, restricted.SHARE * (deadline - time.perf_counter()), seed)
        kept = _local(kept, gains, limits, deadline)
        on_core = _cp_report(report, gains, kept, penalty, safe=False)
        now = time.perf_counter()
        if kept.arcs.size > lns.WINDOWS_ABOVE:  # below, CP-SAT proves small models faster on every kept arc
            kept = lns.improve_kept(kept, gains, limits, now + CORE_SHARE * (deadline - now), seed, on_core)
        kept = _local(kept, gains, limits, deadline)
    safe = kept.arcs.size <= tighten.MAX_CP_ARCS
    if kept.closed:
        best, best_gain, bound_gain, optimal = kept.assignment, kept.gain, kept.gain, True
    elif windows and not safe:  # the windows had the time CP-SAT would have had on a cut model
        best, best_gain, bound_gain, optimal = kept.assignment, kept.gain, kept.bound, False
    else:
        cp_arcs, safe = kept.model(problem.n)
        report(Progress(CP_SAT, 0, kept.gain - penalty, kept.bound - penalty))
        best, best_gain, bound_gain, optimal = _cp_sat(
            problem, gains, limits, kept, cp_arcs, safe, deadline, seed, report
        )
    engine = "cpsat" if safe else "cpsat+pruned"
    if problem.side.fairness == "minmax":
        report(Progress(FAIRNESS, 0, best_gain - penalty, bound_gain - penalty))
        best = _minmax(problem, lag, limits, best, gains, deadline, seed)
        optimal, engine = False, engine + "+minmax"
    bound = bound_gain - penalty
    status = "OPTIMAL" if optimal else "FEASIBLE"
    return Outcome(
        best, None if optimal else bound, status, engine, "lagrangian" if bound_gain == kept.bound else "cpsat"
    )


def _cp_sat(
    problem: BatchProblem,
    gains: Gains,
    limits: Limits,
    kept: Tightened,
    arcs: Arcs,
    safe: bool,
    deadline: float,
    seed: int,
    report: Report,
) -> tuple[IntArray, float, float, bool]:
    """CP-SAT on ``arcs`` from the incumbent: best assignment, its gain, the bound, and whether proven."""
    model = build_model(arcs, limits)
    budget = deadline - RESERVE_S - time.perf_counter()
    share = 1.0 - MINMAX_SHARE if problem.side.fairness == "minmax" else 1.0
    on_solution = _cp_report(report, gains, kept, total_penalty(problem), safe=safe)
    cp = run(model, arcs, kept.assignment, share * budget, seed, on_solution)
    best, best_gain = (kept.assignment, kept.gain)
    if cp.assignment is not None and _gain(gains, cp.assignment) >= kept.gain:
        best, best_gain = cp.assignment, _gain(gains, cp.assignment)
    bound = kept.bound
    if safe and cp.assignment is not None:
        n = gains.gain.shape[0]
        bound = min(bound, max(kept.gain, cp.bound / gains.scale + n * gains.rounding))
    optimal = safe and cp.status == "OPTIMAL" and best is cp.assignment
    return best, best_gain, max(bound, best_gain), optimal


def _local(kept: Tightened, gains: Gains, limits: Limits, deadline: float) -> Tightened:
    """``kept`` with its incumbent improved by local search on the kept arcs (``local.py``), refixed."""
    if kept.closed:
        return kept
    until = time.perf_counter() + LOCAL_SHARE * (deadline - time.perf_counter())
    found = local.improve(kept.arcs, limits, kept.assignment, until)
    if _gain(gains, found) > kept.gain:
        return tighten.refix(kept, found, gains)
    return kept


def _knapsack_report(report: Report, gains: Gains, penalty: float) -> OnBound:
    n = gains.gain.shape[0]

    def on_bound(gain: int, bound: int) -> None:
        report(
            Progress(LAGRANGIAN, 0, gain / gains.scale - penalty, bound / gains.scale + n * gains.rounding - penalty)
        )

    return on_bound


def _cp_report(report: Report, gains: Gains, kept: Tightened, penalty: float, *, safe: bool) -> OnSolution:
    """CP-SAT's solutions in objective units; its bound only where it holds for the full problem."""
    n = gains.gain.shape[0]

    def on_solution(count: int, objective: float, bound: float) -> None:
        value = max(objective / gains.scale, kept.gain)
        full = min(kept.bound, bound / gains.scale + n * gains.rounding) if safe else kept.bound
        report(Progress(CP_SAT, count, value - penalty, max(full, value) - penalty))

    return on_solution


def _fix(lag: Lagrangian, gains: Gains, threshold: float) -> Kept:
    """Keep the arcs of solutions that may gain more than ``threshold``; cut to ``CP_K`` per row if too many."""
    mask = tighten.reach(lag, gains, threshold)
    if int(mask.sum()) <= tighten.MAX_CP_ARCS:
        return Kept(mask, True)
    ranked = np.where(mask, lag.full.reduced, -np.inf)
    m = ranked.shape[1]
    k = min(tighten.CP_K, m)
    kth = np.partition(ranked, m - k, axis=1)[:, m - k]
    cut = mask & (ranked >= kth[:, None])
    cut[_incumbent_rows(lag.assignment), lag.assignment[lag.assignment >= 0]] = True
    return Kept(cut, False)


def _incumbent_rows(assignment: IntArray) -> IntArray:
    return np.flatnonzero(assignment >= 0)


def _gain(gains: Gains, assignment: IntArray) -> float:
    rows = _incumbent_rows(assignment)
    return float(gains.gain[rows, assignment[rows]].sum())


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
