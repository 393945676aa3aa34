"""Small asyncio helpers: waiting on events, and deadlines for many tasks."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable


async def wait_any(events: Iterable[asyncio.Event], timeout: float) -> None:
    """Return when any event is set or ``timeout`` seconds have passed."""
    waiters = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


class Deadlines:
    """Deadlines for many concurrent tasks, kept by one coarse timer.

    ``asyncio.timeout`` arms and disarms a loop timer for every use, which on
    uvloop costs about as much as a small RPC handler's own work. Here a use
    only adds and removes a dictionary entry, and one timer, running while any
    deadline is pending, cancels each task whose deadline has passed, at most
    ``resolution`` seconds late. ``with deadlines.within(seconds):`` then
    raises ``TimeoutError``, as ``asyncio.timeout`` would.
    """

    def __init__(self, resolution: float = 0.05) -> None:
        self._resolution = resolution
        self._pending: dict[Deadline, None] = {}
        self._timer: asyncio.TimerHandle | None = None

    def within(self, seconds: float) -> Deadline:
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("a deadline needs a running task")
        return Deadline(self, task, task.get_loop().time() + seconds)

    def _arm(self, deadline: Deadline) -> None:
        self._pending[deadline] = None
        if self._timer is None:
            loop = deadline.task.get_loop()
            self._timer = loop.call_at(min(deadline.when, loop.time() + self._resolution), self._sweep, loop)

    def _sweep(self, loop: asyncio.AbstractEventLoop) -> None:
        now = loop.time()
        for deadline in [d for d in self._pending if d.when <= now]:
            del self._pending[deadline]
            deadline.expired = True
            deadline.task.cancel()
        self._timer = loop.call_later(self._resolution, self._sweep, loop) if self._pending else None


class Deadline:
    __slots__ = ("_owner", "expired", "task", "when")

    def __init__(self, owner: Deadlines, task: asyncio.Task[object], when: float) -> None:
        self._owner, self.task, self.when, self.expired = owner, task, when, False

    def __enter__(self) -> Deadline:
        self._owner._arm(self)
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, _: object) -> None:
        self._owner._pending.pop(self, None)
        if self.expired:
            self.task.uncancel()  # the cancellation was ours
            if kind is asyncio.CancelledError:
                raise TimeoutError from exc
