"""TEST HOOK: crash the process at a named step (``TEST_HOOK_CRASH_AT``).

Integration tests run the notifier as a subprocess with this set, to prove
that dying right after a step commits never sends a message twice. With the
setting empty (always, in production) ``at`` does nothing.
"""

from __future__ import annotations

import os
import sys

CRASH_EXIT_CODE = 137  # what a SIGKILL'd process reports


class CrashHook:
    def __init__(self, point: str = "") -> None:
        self.point = point

    def at(self, point: str) -> None:
        if self.point and point == self.point:
            sys.stdout.flush()
            os._exit(CRASH_EXIT_CODE)
