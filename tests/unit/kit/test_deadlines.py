"""Deadlines on one coarse timer: late work gets TimeoutError, the rest is untouched."""

from __future__ import annotations

import asyncio
import time

import pytest

from alongside.kit.aio import Deadlines
from alongside.kit.testing.wait import eventually

# Timers of a tenth of a second: make test runs these alone (serial).
pytestmark = pytest.mark.serial


async def test_work_past_its_deadline_is_cancelled_and_times_out() -> None:
    deadlines = Deadlines(resolution=0.02)
    cancelled = asyncio.Event()

    async def slow() -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    began = time.monotonic()
    with pytest.raises(TimeoutError), deadlines.within(0.05):
        await slow()
    assert 0.05 <= time.monotonic() - began < 0.5
    assert cancelled.is_set()
    assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]  # nothing left to cancel us later


async def test_work_in_time_is_untouched_and_the_timer_stops_when_idle() -> None:
    deadlines = Deadlines(resolution=0.02)
    with deadlines.within(1.0):
        await asyncio.sleep(0.01)
    assert not deadlines._pending
    await eventually(lambda: deadlines._timer is None, timeout=1.0, what="the timer stopped")


async def test_only_the_late_ones_of_many_time_out() -> None:
    deadlines = Deadlines(resolution=0.02)

    async def call(seconds: float) -> str:
        try:
            with deadlines.within(0.1):
                await asyncio.sleep(seconds)
            return "ok"
        except TimeoutError:
            return "late"

    outcomes = await asyncio.gather(*(call(0.01 if i % 2 else 1.0) for i in range(40)))
    assert outcomes == ["late" if i % 2 == 0 else "ok" for i in range(40)]


async def test_someone_elses_cancellation_stays_a_cancellation() -> None:
    deadlines = Deadlines(resolution=0.02)

    inside = asyncio.Event()

    async def guarded() -> None:
        with deadlines.within(5.0):
            inside.set()
            await asyncio.sleep(10)

    task = asyncio.create_task(guarded())
    await inside.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not deadlines._pending
