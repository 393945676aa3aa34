"""The (r) 500 x 300 rows of ``bench.batch_match`` alone: five realistic rosters, knapsack engine.

The same rows, columns and goal (proven optimal or gap <= 0.1 % in 10 s)
as ``bench.batch_match --only-gap``, without the (d) rows and the
5,000 x 2,000 roster, for quick checks of the GAP engine on realistic
rosters. Each row ends with the CPU seconds the solve got and the 1-minute
load at its end (the machine may be shared).

    python -m bench.batch_real [--seeds 1-5] [--time-limit S] [--compare]
"""

from __future__ import annotations

import argparse
import os

from alongside.matcher.domain.solver import solve
from alongside.matcher.domain.solver.tighten import Relaxation
from bench.batch_match import Row, case_r, render
from bench.instances import assignment_instance


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="1-5", help="rosters, as FIRST-LAST")
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--compare", action="store_true", help="the LP engine too")
    args = parser.parse_args()
    first, _, last = args.seeds.partition("-")
    seeds = range(int(first), int(last or first) + 1)
    relaxations: tuple[Relaxation, ...] = ("lp", "knapsack") if args.compare else ("knapsack",)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    solve(assignment_instance(50, 20, contended=True, seed=0))  # warm up OR-Tools and numpy
    rows: list[Row] = []
    for seed in seeds:
        for relaxation in relaxations:
            rows += case_r(300, 500, seed, args.time_limit, 0.001, relaxation)
            print(render(rows[-1:]).splitlines()[-1], flush=True)
    print(f"realistic rosters 500 x 300; load at start {load}")
    print(render(rows))


if __name__ == "__main__":
    main()
