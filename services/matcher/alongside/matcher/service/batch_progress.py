"""Carries a running batch's progress from the solver's thread to Redis.

The solver reports from its own thread (``domain/solver/progress.py``);
``Pump.report`` hands each report to the event loop, and ``Pump.run``
writes them to the batch's progress stream: a phase change at once, CP-SAT
solutions at most every ``MIN_GAP_S``, and a heartbeat with the elapsed time
every ``TICK_S`` so a watcher sees the batch alive even in a long phase.
Progress lives in Redis rather than in this process so that any replica
can serve a watch, and a watch survives the client reconnecting elsewhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.matcher.domain.solver import Progress
from alongside.matcher.domain.solver import progress as phases
from alongside.matcher.domain.solver.problem import relative_gap

TICK_S = 0.5
MIN_GAP_S = 0.2
FINISH_S = 2.0
PHASES = {
    phases.FLOW: pb.BATCH_PHASE_FLOW,
    phases.LAGRANGIAN: pb.BATCH_PHASE_LAGRANGIAN,
    phases.CP_SAT: pb.BATCH_PHASE_CP_SAT,
    phases.FAIRNESS: pb.BATCH_PHASE_FAIRNESS,
}
Publish = Callable[[pb.BatchProgress], Awaitable[None]]
_END = object()


class Pump:
    def __init__(self, batch_id: str, started: float, publish: Publish) -> None:
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[object] = asyncio.Queue()
        self._publish, self._started = publish, started
        self.current = pb.BatchProgress(batch_id=batch_id, phase=pb.BATCH_PHASE_QUEUED)

    def elapsed(self) -> float:
        return round(time.monotonic() - self._started, 3)

    def report(self, progress: Progress) -> None:
        """From the solver's thread."""
        self._loop.call_soon_threadsafe(self._queue.put_nowait, progress)

    def phase(self, phase: pb.BatchPhase, requests: int | None = None) -> None:
        """From the event loop."""
        self._queue.put_nowait((phase, requests))

    async def finish(self, task: asyncio.Task[None]) -> None:
        """Write what is still pending, then stop ``task`` (this pump's ``run``)."""
        self._queue.put_nowait(_END)
        await task

    async def abandon(self, task: asyncio.Task[None]) -> None:
        """Stop ``task`` without fail (its Redis may be gone): nothing of it lands after this returns."""
        self._queue.put_nowait(_END)
        try:
            async with asyncio.timeout(FINISH_S):
                await asyncio.shield(task)
        except (TimeoutError, Exception):  # noqa: BLE001 - stopping it is all that matters here
            task.cancel()
            with contextlib.suppress(BaseException):
                await task

    async def run(self) -> None:
        sent = 0.0
        while True:
            try:
                async with asyncio.timeout(TICK_S):  # unlike wait_for (3.11), never swallows a cancel
                    item = await self._queue.get()
            except TimeoutError:
                item = None
            if item is _END:
                return
            changed = item is not None and self._apply(item)
            now = time.monotonic()
            if item is not None and not changed and now - sent < MIN_GAP_S:
                continue  # a burst of solutions: the next tick or phase writes the newest
            self.current.elapsed_seconds = self.elapsed()
            await self._publish(self.current)
            sent = now

    def _apply(self, item: object) -> bool:
        """Fold a report into ``current``; True when the phase changed."""
        before = self.current.phase
        if isinstance(item, Progress):
            self.current.phase = PHASES[item.phase]
            self.current.solutions = item.solutions
            if item.objective is not None and item.bound is not None:
                self.current.objective, self.current.bound = item.objective, item.bound
                self.current.gap = relative_gap(item.objective, item.bound)
        elif isinstance(item, tuple):
            phase, requests = item
            self.current.phase = phase
            if requests is not None:
                self.current.requests = requests
        return self.current.phase != before
