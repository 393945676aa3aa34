"""`python -m alongside.notifier` (or the `alongside-notifier` script) runs the notifier."""

from __future__ import annotations

import sys

from alongside.kit import logging, loop, workers
from alongside.kit.settings import ConfigError
from alongside.notifier.bootstrap import build
from alongside.notifier.settings import NotifierSettings


def main() -> int:
    try:
        settings = NotifierSettings.from_env()
    except ConfigError as exc:
        print(f"alongside-notifier: configuration error: {exc}", file=sys.stderr)
        return 2
    logging.configure(settings.service_name, settings.log_level, final=True)
    return workers.serve("alongside.notifier", settings, lambda: _run(settings))


def _run(settings: NotifierSettings) -> int:
    loop.run(build(settings).serve(), settings.event_loop)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
