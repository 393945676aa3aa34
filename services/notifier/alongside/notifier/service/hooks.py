"""TEST HOOKS: crash the process at a named step (``TEST_HOOK_CRASH_AT``), or
hold the step's task there for a while (``TEST_HOOK_STALL_AT``).

Integration tests run the notifier as a subprocess with these set, to prove
that dying right after a step commits never sends a message twice, and that
nothing else in the process can send it twice while the step's next write is
late (a busy event loop, a slow WAIT). With the settings empty (always, in
production) ``at`` and ``stall`` do nothing.
"""

from __future__ import annotations

import asyncio
import os
import sys

CRASH_EXIT_CODE = 137  # what a SIGKILL'd process reports
STALL_SECONDS = 2.0


class CrashHook:
    def __init__(self, point: str = "", stall_point: str = "") -> None:
        self.point, self.stall_point = point, stall_point

    def at(self, point: str) -> None:
        if self.point and point == self.point:
            sys.stdout.flush()
            os._exit(CRASH_EXIT_CODE)

    async def stall(self, point: str) -> None:
        """Hold this task (the rest of the process runs on) at ``point``."""
        if self.stall_point and point == self.stall_point:
            await asyncio.sleep(STALL_SECONDS)
