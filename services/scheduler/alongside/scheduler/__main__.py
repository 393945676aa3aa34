"""`python -m alongside.scheduler` (or the `alongside-scheduler` script) runs the scheduler."""

from __future__ import annotations

import sys

from alongside.kit import logging, loop, workers
from alongside.kit.settings import ConfigError
from alongside.scheduler.bootstrap import build
from alongside.scheduler.settings import SchedulerSettings


def main() -> int:
    try:
        settings = SchedulerSettings.from_env()
    except ConfigError as exc:
        print(f"alongside-scheduler: configuration error: {exc}", file=sys.stderr)
        return 2
    logging.configure(settings.service_name, settings.log_level, final=True)
    return workers.serve("alongside.scheduler", settings, lambda: _run(settings))


def _run(settings: SchedulerSettings) -> int:
    loop.run(build(settings).serve(), settings.event_loop)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
