"""Closed-loop gRPC load: N concurrent clients, each sending its next request
when the previous answer arrives. Reports latency percentiles and calls/s."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from alongside.kit.testing.processes import children, is_relay


@dataclass(frozen=True)
class LoadResult:
    calls: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rate(self) -> float:
        return self.calls / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else float("nan")


async def closed_loop(call: Callable[[int], Awaitable[object]], total: int, concurrency: int) -> LoadResult:
    latencies: list[float] = []
    errors = 0
    counter = iter(range(total))

    async def client() -> None:
        nonlocal errors
        for i in counter:
            start = time.perf_counter()
            try:
                await call(i)
            except Exception:  # noqa: BLE001 - counted, the run goes on
                errors += 1
                continue
            latencies.append((time.perf_counter() - start) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return LoadResult(len(latencies), errors, time.perf_counter() - started, latencies)


def serving_pids(pid: int) -> list[int]:
    """The process serving: ``pid`` itself, or with WORKERS > 1 its workers
    (never an outbox relay child, which ``relay_pids`` names)."""
    return [child for child in children(pid) if not is_relay(child)] or [pid]


def relay_pids(pid: int) -> list[int]:
    """The outbox relay processes of the service ``pid`` (one per worker)."""
    return [child for parent in {pid, *serving_pids(pid)} for child in children(parent) if is_relay(child)]

