"""``make chaos``: the whole journey at a steady rate on the HA topology, under
a fault schedule, then a reconciliation from the stores and one line.

Run: ``python -m bench.chaos [--duration 300] [--rate 2] [--short]``.
The fault schedule (``tests/chaos/driver.py``): every 20 s one of kill -9
of the Valkey primary, kill -9 of a NATS node, kill -9 of a service replica,
SIGSTOP of a NATS node for 30 s; ``--short`` is the one-minute profile that
``make test`` runs. Exit status 1 if anything acknowledged was lost or doubled.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from tests.chaos.driver import LONG, SHORT, run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=float, default=300.0, help="seconds of load (default 300)")
    parser.add_argument("--rate", type=float, default=2.0, help="journeys started per second (default 2)")
    parser.add_argument("--peers", type=int, default=24, help="peers on the roster (default 24)")
    parser.add_argument("--short", action="store_true", help="the one-minute profile of make test")
    args = parser.parse_args()
    if args.short:
        line = asyncio.run(run(36, 1.0, SHORT))
    else:
        faults = [f for f in LONG if f.at_s < args.duration - 10]
        line = asyncio.run(run(args.duration, args.rate, faults, peers=args.peers))
    print(line)
    return 0 if " 0 lost, 0 duplicated, 0 failed" in line else 1


if __name__ == "__main__":
    sys.exit(main())
