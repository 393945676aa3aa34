"""Print a service's request size bounds as the Markdown table its doc holds.

.venv/bin/python scripts/bounds_table.py matcher   # or scheduler, notifier
"""

from __future__ import annotations

import sys

from google.protobuf.descriptor import ServiceDescriptor

from alongside.api.audit.v1 import audit_pb2
from alongside.api.matcher.v1 import matcher_pb2
from alongside.api.notifier.v1 import notifier_pb2
from alongside.api.scheduler.v1 import scheduler_pb2
from alongside.kit.bounds import Bounds, table_lines
from alongside.matcher.entrypoints.bounds import BOUNDS as MATCHER
from alongside.notifier.entrypoints.bounds import BOUNDS as NOTIFIER
from alongside.scheduler.entrypoints.bounds import BOUNDS as SCHEDULER

SERVICES: dict[str, tuple[Bounds, list[ServiceDescriptor]]] = {
    "matcher": (
        MATCHER,
        [
            matcher_pb2.DESCRIPTOR.services_by_name["MatcherService"],
            audit_pb2.DESCRIPTOR.services_by_name["AuditService"],
        ],
    ),
    "scheduler": (SCHEDULER, [scheduler_pb2.DESCRIPTOR.services_by_name["SchedulerService"]]),
    "notifier": (NOTIFIER, [notifier_pb2.DESCRIPTOR.services_by_name["NotifierService"]]),
}


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in SERVICES:
        print(f"usage: bounds_table.py {'|'.join(SERVICES)}", file=sys.stderr)
        return 2
    bounds, services = SERVICES[argv[0]]
    print("\n".join(table_lines(bounds, services)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
