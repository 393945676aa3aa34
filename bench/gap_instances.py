"""Run ``solve()`` on the OR-Library GAP instances and compare with the known values.

Agents are peers (columns), jobs are participants (rows); every job must be
assigned, modelled with an unmatched penalty larger than any total profit
(so leaving a job out always loses). Small instances (gap1..gap12) are
maximisation problems with known optima; large ones (types C and D) are
minimisation problems, converted with ``profit = max(c) - c``, and compared
with the best known value and lower bound.

With ``--compare`` every instance runs with the earlier LP engine and with
the knapsack Lagrangian engine in the same run (column ``engine``).

    python bench/gap_instances.py [--data DIR] [--time-limit S] [--quick] [--compare]
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from alongside.matcher.domain.solver import BatchProblem, BatchResult, solve
from alongside.matcher.domain.solver.tighten import Relaxation

ROOT = Path(__file__).resolve().parents[1]

QUICK_SMALL = ("gap1-0", "gap6-2", "gap12-4")
QUICK_LARGE = ("c05100", "d05100")


@dataclass(frozen=True)
class Gap:
    cost: NDArray[np.int64]  # (agents, jobs)
    weight: NDArray[np.int64]  # (agents, jobs)
    capacity: NDArray[np.int64]  # (agents,)


def read_gap(path: Path) -> Gap:
    numbers = np.array(path.read_text().split(), dtype=np.int64)
    m, n = int(numbers[0]), int(numbers[1])
    body = numbers[2:]
    cost = body[: m * n].reshape(m, n)
    weight = body[m * n : 2 * m * n].reshape(m, n)
    return Gap(cost, weight, body[2 * m * n : 2 * m * n + m])


def as_problem(gap: Gap, *, maximise: bool) -> tuple[BatchProblem, int]:
    """The batch problem and the constant ``k`` with cost = k - objective when minimising."""
    profit = gap.cost.T if maximise else gap.cost.max() - gap.cost.T
    n = profit.shape[0]
    must_assign = float(n * int(profit.max()) + 1)
    problem = BatchProblem(
        profit=profit.astype(np.float64),
        feasible=np.ones(profit.shape, dtype=np.bool_),
        load=gap.weight.T.copy(),
        capacity=gap.capacity.copy(),
        unmatched_penalty=np.full(n, must_assign),
    )
    return problem, n * int(gap.cost.max())


def check(problem: BatchProblem, result: BatchResult) -> str:
    """'ok', or what is wrong with the assignment."""
    a = result.assignment
    if (a < 0).any():
        return "unassigned job"
    load = np.bincount(a, weights=problem.load[np.arange(a.size), a], minlength=problem.m)
    return "ok" if (load <= problem.capacity).all() else "over capacity"


def run_small(data: Path, limit: float, quick: bool, relaxations: tuple[Relaxation, ...]) -> list[str]:
    optima = json.loads((data / "small" / "optima.json").read_text())
    names = [k for k in sorted(optima, key=_natural) if not quick or k in QUICK_SMALL]
    lines = [
        f"{'instance':<9} {'engine':<8} {'n x m':>7} {'optimum':>8} {'found':>8} {'bound':>9}"
        f" {'status':<9} {'s':>6} check"
    ]
    reached = dict.fromkeys(relaxations, 0)
    proven = dict.fromkeys(relaxations, 0)
    for name in names:
        problem, _ = as_problem(read_gap(data / "small" / f"{name}.txt"), maximise=True)
        for relaxation in relaxations:
            result = solve(problem, time_limit_s=limit, relaxation=relaxation)
            best = int(optima[name]["optimum"])
            reached[relaxation] += round(result.objective) == best
            proven[relaxation] += result.status == "OPTIMAL"
            lines.append(
                f"{name:<9} {relaxation:<8} {problem.n:>3}x{problem.m:<3} {best:>8} {result.objective:>8.0f}"
                f" {result.bound:>9.1f} {result.status:<9} {result.seconds:>6.2f} {check(problem, result)}"
            )
    for relaxation in relaxations:
        lines.append(
            f"{relaxation}: reached the known optimum on {reached[relaxation]} of {len(names)},"
            f" proven optimal on {proven[relaxation]}"
        )
    return lines


def run_large(data: Path, limit: float, quick: bool, relaxations: tuple[Relaxation, ...]) -> list[str]:
    known = json.loads((data / "large" / "best_known.json").read_text())["instances"]
    names = [k for k in sorted(known) if not quick or k in QUICK_LARGE]
    lines = [
        f"{'instance':<8} {'engine':<8} {'n x m':>7} {'best':>6} {'lb':>6} {'found':>6} {'our lb':>8} {'vs best':>8}"
        f" {'gap':>7} {'status':<9} {'s':>6} check"
    ]
    for name in names:
        problem, k = as_problem(read_gap(data / "large" / known[name]["file"]), maximise=False)
        for relaxation in relaxations:
            result = solve(problem, time_limit_s=limit, relaxation=relaxation)
            found, lower = k - result.objective, k - result.bound
            best = int(known[name]["best_known"])
            lines.append(
                f"{name:<8} {relaxation:<8} {problem.n:>3}x{problem.m:<3} {best:>6} {known[name]['lower_bound']:>6}"
                f" {found:>6.0f} {lower:>8.1f} {100 * (found - best) / best:>7.2f}%"
                f" {100 * (found - lower) / found:>6.2f}% {result.status:<9} {result.seconds:>6.2f}"
                f" {check(problem, result)}"
            )
    return lines


def _natural(name: str) -> tuple[int, int]:
    group, index = name.removeprefix("gap").split("-")
    return int(group), int(index)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "benchmarks" / "gap")
    parser.add_argument("--time-limit", type=float, default=10.0, help="seconds per instance")
    parser.add_argument("--quick", action="store_true", help="a few instances, 2 s each")
    parser.add_argument("--compare", action="store_true", help="the LP engine and the knapsack engine, side by side")
    args = parser.parse_args()
    relaxations: tuple[Relaxation, ...] = ("lp", "knapsack") if args.compare else ("knapsack",)
    limit = min(args.time_limit, 2.0) if args.quick else args.time_limit
    print(f"OR-Library GAP, solve() with time_limit_s={limit}")
    print("\nsmall (maximise, known optima)")
    print("\n".join(run_small(args.data, limit, args.quick, relaxations)))
    print("\nlarge (minimise; 'vs best' = found over best known, 'gap' = found over our lower bound)")
    print("\n".join(run_large(args.data, limit, args.quick, relaxations)))


if __name__ == "__main__":
    main()
