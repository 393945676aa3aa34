"""Run every benchmark in turn (``make bench``; ``--quick`` for a smoke run).

Each prints its own table, with its baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

BENCHES = (
    "bench.match_scoring",
    "bench.match_rpc",
    "bench.batch_match",
    "bench.gap_instances",
    "bench.scheduler_slots",
    "bench.scheduler_planner",
    "bench.scheduler_booking",
    "bench.notifier_throughput",
    "bench.dashboard_stats",
    "bench.console_pages",
    "bench.console_dashboard",
    "bench.durability",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short smoke runs")
    parser.add_argument("only", nargs="*", help="run only these (e.g. match_rpc)")
    args = parser.parse_args(argv)
    failed = []
    for module in BENCHES:
        if args.only and module.split(".")[-1] not in args.only:
            continue
        print(f"\n=== {module} ===", flush=True)
        result = subprocess.run([sys.executable, "-m", module, *(["--quick"] if args.quick else [])])
        if result.returncode != 0:
            failed.append(module)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
