"""Group commit: callers that arrive while a write is in flight share the next one.

An idle service writes each item at once; under load, many callers pay for
one write. Each caller waits for its own reply (or error). If the writer is
interrupted (cancelled at shutdown), every caller still waiting gets the
``interrupted`` error: nobody goes on as if their item were written.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class GroupCommit(Generic[T]):
    def __init__(
        self,
        write: Callable[[list[T]], Awaitable[list[Any]]],
        interrupted: Callable[[], BaseException],
        max_batch: int = 256,
    ) -> None:
        """``write`` takes a batch and returns one reply per item, an exception
        being that item's error; if it raises, every item in the batch gets it."""
        self._write, self._interrupted, self._max_batch = write, interrupted, max_batch
        self._waiting: list[tuple[T, asyncio.Future[Any]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def __call__(self, item: T) -> Any:
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, done))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_all())
        return await done

    async def _write_all(self) -> None:
        batch: list[tuple[T, asyncio.Future[Any]]] = []
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[: self._max_batch], self._waiting[self._max_batch :]
                try:
                    replies = await self._write([item for item, _ in batch])
                except Exception as exc:  # noqa: BLE001 - every caller in the batch gets it
                    replies = [exc] * len(batch)
                for (_, done), reply in zip(batch, replies, strict=True):
                    if done.done():  # the caller went away; the write happened (or not) all the same
                        continue
                    if isinstance(reply, BaseException):
                        done.set_exception(reply)
                    else:
                        done.set_result(reply)
        finally:
            self._writer = None
            left, self._waiting = batch + self._waiting, []
            for _, done in left:
                if not done.done():  # only if this task was cancelled
                    done.set_exception(self._interrupted())
