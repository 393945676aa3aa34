"""The delivery worker: a background loop that claims due jobs and runs them.

Safe with several replicas: claims are atomic with a lease. Jobs run
concurrently up to a limit, each on its own, so a slow or failing channel
holds one slot and never blocks other channels or other peers. A periodic
sweep rebuilds the due index from the peers' own job sets.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from alongside.kit.logging import get_logger
from alongside.notifier.adapters.due_index import DueIndex
from alongside.notifier.service.attempt import Attempt
from alongside.notifier.service.model import Clock, Job

log = get_logger(__name__)


class DeliveryWorker:
    def __init__(
        self,
        due: DueIndex,
        attempt: Attempt,
        clock: Clock,
        *,
        concurrency: int,
        lease: timedelta,
        poll_s: float,
        sweep_s: float,
    ) -> None:
        self._due, self._attempt, self._clock = due, attempt, clock
        self._concurrency, self._lease = concurrency, lease
        self._poll_s, self._sweep_s = poll_s, sweep_s
        self._running: set[asyncio.Task[None]] = set()

    async def run(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        next_sweep = loop.time()
        try:
            while not stop.is_set():
                if loop.time() >= next_sweep:
                    await self._due.sweep()
                    next_sweep = loop.time() + self._sweep_s
                if await self._claim_some():
                    continue  # a full batch: more may be due
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._due.wakeup.wait(), self._poll_s)
                self._due.wakeup.clear()
        finally:
            # Let sends in flight finish; their jobs stay leased otherwise.
            await asyncio.gather(*self._running, return_exceptions=True)

    async def _claim_some(self) -> bool:
        """Start as many due jobs as there are free slots; True if all slots filled."""
        free = self._concurrency - len(self._running)
        if free <= 0:
            return False
        now = self._clock()
        jobs = await self._due.claim(now, now + self._lease, free)
        for job in jobs:
            task = asyncio.create_task(self._run(job))
            self._running.add(task)
            task.add_done_callback(self._finished)
        return len(jobs) == free

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self._due.wakeup.set()  # a slot is free

    async def _run(self, job: Job) -> None:
        try:
            await self._attempt.run(job)
        except Exception as exc:  # noqa: BLE001 - the lease expires and the job is claimed again
            log.error(
                "delivery.attempt_crashed",
                notification_id=job.notification_id,
                channel=job.channel.value,
                error=type(exc).__name__,
            )
