"""Small asyncio helpers for background loops."""

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
