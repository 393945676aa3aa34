"""`python -m alongside.matcher` (or the `alongside-matcher` script) runs the matcher."""

from __future__ import annotations

import sys

from alongside.kit import logging, loop, workers
from alongside.kit.settings import ConfigError
from alongside.matcher.bootstrap import build
from alongside.matcher.settings import MatcherSettings


def main() -> int:
    try:
        settings = MatcherSettings.from_env()
    except ConfigError as exc:
        print(f"alongside-matcher: configuration error: {exc}", file=sys.stderr)
        return 2
    logging.configure(settings.service_name, settings.log_level, final=True)
    return workers.serve("alongside.matcher", settings, lambda: _run(settings))


def _run(settings: MatcherSettings) -> int:
    loop.run(build(settings).serve(), settings.event_loop)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
