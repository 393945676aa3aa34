"""The console's programme dashboard page over a year of a 500-peer programme,
beside the two raw RPCs it makes, in the same run.

Run: ``python -m bench.console_dashboard`` (``--quick``: 100 peers, 12 weeks).

Setup: exactly bench/dashboard_stats.py's (its ``simulate`` and
``write_sessions``): the demo generator's roster scaled to 500 peers, 100
intakes a week for 52 weeks through the matcher's real RPCs on a simulated
clock, and a year of weekly sessions written in the scheduler's layout. Both
services run in this process on throwaway NATS and Valkey.

Then, for each range the manager can pick (12 and 52 weeks by week, 52 weeks
by day), 20 sequential calls after one warm-up of:

- each raw RPC over gRPC, as a manager (``GetProgrammeStats``, ``GetSessionStats``);
- both at once (``asyncio.gather``), as the page makes them;
- the page itself: ``GET /dashboard`` through the console's ASGI app (in
  process, over ``httpx.ASGITransport``, so no socket), signed in as a manager
  with the development sign-in: its server time, RPCs included;
- the page's own work without the RPCs: turning the two replies into charts
  (``dashboard_view.build``) and rendering the template, in process.

Goal (issue 15): the dashboard renders in under 300 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from alongside.api.matcher.v1 import matcher_pb2 as mpb
from alongside.api.matcher.v1 import matcher_pb2_grpc
from alongside.api.scheduler.v1 import scheduler_pb2 as spb
from alongside.api.scheduler.v1 import scheduler_pb2_grpc
from alongside.console import dashboard_view, views
from alongside.console.app import create_app
from alongside.console.settings import ConsoleSettings
from alongside.kit.testing.auth import TEST_SECRET, channel
from bench.dashboard_stats import programme

CALLS = 20
GOAL_MS = 300.0
CHOICES = (("12 weeks by week", 12, "week"), ("52 weeks by week", 52, "week"), ("52 weeks by day", 52, "day"))


@dataclass(frozen=True)
class Row:
    range: str
    name: str
    times_ms: list[float]
    cpu_ms: float
    page: bool = False

    @property
    def p50(self) -> float:
        return statistics.median(self.times_ms)

    @property
    def p95(self) -> float:
        t = sorted(self.times_ms)
        return t[min(len(t) - 1, int(0.95 * len(t)))]

    def line(self) -> str:
        goal = (f"< {GOAL_MS:.0f} ms: " + ("met" if self.p95 < GOAL_MS else "NOT met")) if self.page else ""
        return (f"{self.range:<18}{self.name:<34}{self.p50:>9.1f}{self.p95:>9.1f}{max(self.times_ms):>9.1f}"
                f"{self.cpu_ms:>9.1f}   {goal}")  # fmt: skip


async def timed(call: Callable[[], Awaitable[Any]], calls: int) -> tuple[list[float], float]:
    await call()  # warm
    times, cpu = [], time.process_time()
    for _ in range(calls):
        t0 = time.perf_counter()
        await call()
        times.append((time.perf_counter() - t0) * 1000)
    return times, (time.process_time() - cpu) * 1000 / calls


async def sign_in(client: httpx.AsyncClient) -> None:
    page = await client.get("/sign-in")
    token = re.findall(r'name="csrf_token" value="([^"]+)"', page.text)[0]
    reply = await client.post("/sign-in/dev", data={"role": "manager", "subject": "bench", "csrf_token": token})
    assert reply.status_code == 303, reply.status_code


def render_only(app: Any, replies: tuple[Any, Any], choice: dashboard_view.Choice) -> str:
    """The page's work on the replies: the charts, then the template (as routes/dashboard.py does)."""
    charts = dashboard_view.build(*replies)
    context = {"charts": charts, "chart_data": {c.key: c.data() for c in charts},
               "fewer_label": dashboard_view.fewer(charts[0].k), "choice": choice, "ranges": dashboard_view.RANGES}
    request = app.state.render_request
    return views.html(request, "dashboard.html", context)


async def measure(app: Any, m: Any, s: Any, end: datetime, calls: int) -> list[Row]:
    rows: list[Row] = []
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as client:
        await sign_in(client)
        for label, weeks, bucket in CHOICES:
            choice = dashboard_view.Choice(weeks, bucket)
            start_at, end_at = choice.range(end)
            pr = mpb.GetProgrammeStatsRequest(bucket=choice.bucket_value)  # type: ignore[arg-type]
            sr = spb.GetSessionStatsRequest(bucket=choice.bucket_value)  # type: ignore[arg-type]
            for req in (pr, sr):
                req.start.FromDatetime(start_at)
                req.end.FromDatetime(end_at)
            replies: list[Any] = []

            async def both(pr: Any = pr, sr: Any = sr, replies: list[Any] = replies) -> None:
                replies[:] = await asyncio.gather(m.GetProgrammeStats(pr), s.GetSessionStats(sr))

            async def page(weeks: int = weeks, bucket: str = bucket) -> None:
                reply = await client.get(f"/dashboard?weeks={weeks}&bucket={bucket}")
                assert reply.status_code == 200 and "dashboard-data" in reply.text, reply.status_code

            async def render(choice: dashboard_view.Choice = choice, replies: list[Any] = replies) -> None:
                render_only(app, (replies[0], replies[1]), choice)

            for name, call, is_page in (
                ("GetProgrammeStats (raw gRPC)", lambda pr=pr: m.GetProgrammeStats(pr), False),
                ("GetSessionStats (raw gRPC)", lambda sr=sr: s.GetSessionStats(sr), False),
                ("both at once (raw gRPC)", both, False),
                ("GET /dashboard (server time)", page, True),
                ("  of which charts + template", render, False),
            ):
                times, cpu = await timed(call, calls)
                rows.append(Row(label, name, times, cpu, is_page))
    return rows


async def run(peers: int, weeks: int, per_week: int, calls: int) -> None:
    async with programme(peers, weeks, per_week) as p:
        matcher, scheduler, end, made, setup = p.matcher, p.scheduler, p.end, p.made, p.setup_matcher_s
        settings = ConsoleSettings.from_env(
            {}, dev_sign_in=True, auth_hs256_secret=TEST_SECRET, log_level="warning",
            matcher_addr=f"127.0.0.1:{matcher.port}", scheduler_addr=f"127.0.0.1:{scheduler.port}",
        )
        app = create_app(settings)
        app.state.clock = lambda: end  # the page's "now" is the end of the simulated year
        app.state.backends.open()
        app.state.render_request = _render_request(app)
        try:
            async with (
                channel(f"127.0.0.1:{matcher.port}", role="manager", subject="bench") as mc,
                channel(f"127.0.0.1:{scheduler.port}", role="manager", subject="bench") as sc,
            ):
                stubs = matcher_pb2_grpc.MatcherServiceStub(mc), scheduler_pb2_grpc.SchedulerServiceStub(sc)
                rows = await measure(app, *stubs, end, calls)
        finally:
            await app.state.backends.close()
    print(f"Console dashboard page: {peers} peers, {weeks} weeks, {made.intakes:,} intakes (real RPCs, {setup:.0f} s), "
          f"{len(made.matches):,} matches, {made.sessions:,} sessions; {calls} calls per row; "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")  # fmt: skip
    print(f"{'range':<18}{'call':<34}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'cpu ms':>9}   goal")
    for row in rows:
        print(row.line())
    print("cpu ms: this process's CPU per call; the matcher, the scheduler, the console and the client all run in it."
          " On a busy machine compare these, not the wall times.")


def _render_request(app: Any) -> Any:
    """A request with a (signed-out) session, enough for ``views.html`` outside a route."""
    from starlette.requests import Request

    from alongside.console import sessions

    scope = {"type": "http", "method": "GET", "path": "/dashboard", "headers": [], "query_string": b"", "app": app,
             "scheme": "http", "server": ("127.0.0.1", 8080), "root_path": "",
             sessions.SCOPE_KEY: app.state.store.new("en")}
    return Request(scope)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="100 peers, 12 weeks, 5 calls per row")
    parser.add_argument("--per-week", type=int, default=100, help="intakes a week (default 100)")
    args = parser.parse_args(argv)
    if args.quick:
        asyncio.run(run(100, 12, 20, 5))
    else:
        asyncio.run(run(500, 52, args.per_week, CALLS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
