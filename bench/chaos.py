"""``make chaos``: the whole journey at a steady rate on the HA topology, under
a fault schedule, then a reconciliation from the stores and one line.

Run: ``python -m bench.chaos [--duration 300] [--rate 2] [--outage] [--short]``.
The fault schedule (``tests/chaos/driver.py``): every 20 s one of kill -9
of the Valkey primary, kill -9 of a NATS node (every other time the leader of
the MATCH stream), kill -9 of a service replica, SIGSTOP of a NATS node for
30 s. ``--outage`` is the longer profile (8 minutes unless ``--duration``
says otherwise): at 90 s every NATS node is killed for 130 s, and the
services must resume by themselves. ``--short`` is the one-minute profile
that ``make test`` runs. Exit status 1 if anything acknowledged was lost or
doubled, a journey failed, or the stores disagree (loads, overlapping
sessions, audit problems, dead letters).
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from tests.chaos.driver import SHORT, passed, run, schedule


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=float, default=None, help="seconds of load (default 300; 480 with --outage)")
    parser.add_argument("--rate", type=float, default=2.0, help="journeys started per second (default 2)")
    parser.add_argument("--peers", type=int, default=24, help="peers on the roster (default 24)")
    parser.add_argument("--outage", action="store_true", help="the longer profile: a NATS outage of 130 s")
    parser.add_argument("--short", action="store_true", help="the one-minute profile of make test")
    args = parser.parse_args()
    if args.short:
        line = asyncio.run(run(36, 1.0, SHORT))
    else:
        duration = args.duration or (480.0 if args.outage else 300.0)
        line = asyncio.run(run(duration, args.rate, schedule(duration, args.outage), peers=args.peers))
    print(line)
    return 0 if passed(line) else 1


if __name__ == "__main__":
    sys.exit(main())
