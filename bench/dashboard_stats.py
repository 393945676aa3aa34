"""The dashboard's aggregate RPCs over a year of a 500-peer programme.

Run: ``python -m bench.dashboard_stats`` (``--quick``: 100 peers, 12 weeks).

Setup, throwaway NATS and Valkey:

- matcher (in this process, real gRPC server, its clock simulated): the demo
  generator's roster scaled to 500 peers is imported through ImportRoster;
  then, week by week for a year, the demo generator's intakes (100 a week by
  default) go through the real SubmitMatchRequest RPC, shortlisted ones are
  accepted through AcceptMatch a few hours to days later, and matches are
  closed through CloseMatch after 8 to 24 weeks. Every record is the
  matcher's own, written by its own use cases.
- scheduler: a year of weekly sessions per match is WRITTEN DIRECTLY in the
  scheduler's Redis layout (session protobufs, the time index, each
  session's dashboard fact, the intake record ``match.accepted`` leaves), not booked through BookSession: a year
  of bookings would need a year of clock-driven rules for nothing the stats
  read. Past sessions are 80 % attended, 10 % no-show, 10 % cancelled. The
  scheduler runs in its own namespace so it does not book the matcher's
  events itself.

Then each RPC is called as a manager over gRPC, sequentially, for the
default range (12 weeks) and a year of weeks, and both at once as the
dashboard page does. Goal (issue 15): the page renders in < 300 ms, so each
RPC should answer well under that.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import statistics
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from alongside.api.matcher.v1 import matcher_pb2 as mpb
from alongside.api.matcher.v1 import matcher_pb2_grpc
from alongside.api.scheduler.v1 import scheduler_pb2 as spb
from alongside.api.scheduler.v1 import scheduler_pb2_grpc
from alongside.cli.demo_data import generate, roster_csv
from alongside.cli.intake_file import request_from_doc
from alongside.kit import logging as kit_logging
from alongside.kit.redis import Keys
from alongside.kit.runtime import Runtime
from alongside.kit.testing.auth import TEST_AUTH, channel
from alongside.kit.testing.processes import cpu_seconds
from alongside.kit.testing.servers import NatsServer, ValkeyServer
from alongside.matcher.bootstrap import build as build_matcher
from alongside.matcher.settings import MatcherSettings
from alongside.scheduler.adapters.keys import SchedulerKeys
from alongside.scheduler.bootstrap import build as build_scheduler
from alongside.scheduler.settings import SchedulerSettings

START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
HOUR = timedelta(hours=1)
CALLS = 20


class SimClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Made:
    """What the simulation produced, for the scheduler's sessions and the report."""

    intakes: int = 0
    matches: list[tuple[mpb.Match, int, int]] = field(default_factory=list)  # match, requested ms, urgency
    closed: dict[str, datetime] = field(default_factory=dict)
    sessions: int = 0


async def simulate(stub: Any, clock: SimClock, peers: int, weeks: int, per_week: int, rng: random.Random) -> Made:
    data = generate(7, peers, per_week * weeks, date(2027, 1, 1))  # consents valid all year
    csv = roster_csv(data.peers).encode()
    reply = await stub.ImportRoster(mpb.ImportRosterRequest(idempotency_key="roster", csv=csv))
    assert not reply.errors, reply.errors[:3]
    made, open_matches = Made(), []
    for week in range(weeks):
        week_start = START + timedelta(weeks=week)
        to_accept = []
        for n, intake in enumerate(data.intakes[week * per_week : (week + 1) * per_week]):
            clock.now = week_start + timedelta(weeks=1) * n / per_week
            request = request_from_doc(intake.doc, f"intake-{intake.number}")
            state = (await stub.SubmitMatchRequest(request)).request
            made.intakes += 1
            if state.candidates:
                to_accept.append((clock.now + HOUR * rng.uniform(1, 120), state))
        for when, state in sorted(to_accept, key=lambda x: x[0]):
            clock.now = when
            match = await accept(stub, state)
            if match is not None:
                made.matches.append((match, state.created_at.ToMilliseconds(), state.urgency))
                open_matches.append((when + timedelta(weeks=rng.randint(8, 24)), match.match_id))
        clock.now = week_start + timedelta(weeks=1)
        for due, match_id in [m for m in open_matches if m[0] <= clock.now]:
            open_matches.remove((due, match_id))
            close = mpb.CloseMatchRequest(idempotency_key=f"close-{match_id}", match_id=match_id,
                                          reason=mpb.CLOSE_REASON_COMPLETED)  # fmt: skip
            await stub.CloseMatch(close)
            made.closed[match_id] = due
    return made


async def accept(stub: Any, state: mpb.MatchRequest) -> mpb.Match | None:
    for candidate in state.candidates:
        request = mpb.AcceptMatchRequest(idempotency_key=f"accept-{state.request_id}-{candidate.peer_id}",
                                         request_id=state.request_id, peer_id=candidate.peer_id)  # fmt: skip
        try:
            match: mpb.Match = (await stub.AcceptMatch(request)).match
            return match
        except Exception:  # noqa: BLE001 - the peer filled up meanwhile: try the next
            continue
    return None


async def write_sessions(redis: Any, namespace: str, made: Made, now: datetime, rng: random.Random) -> None:
    """Weekly sessions per match, in the scheduler's layout (see the module docstring)."""
    keys = SchedulerKeys(Keys(namespace, "scheduler"))
    pipe = redis.pipeline(transaction=False)
    for n, (match, requested_ms, urgency) in enumerate(made.matches):
        first = match.accepted_at.ToDatetime(tzinfo=UTC) + HOUR * rng.randint(2, 120)
        end = min(made.closed.get(match.match_id, now + timedelta(weeks=2)), now + timedelta(weeks=2))
        pipe.sadd(keys.peers, match.peer_id)
        name = mpb.Urgency.Name(urgency).removeprefix("URGENCY_")
        pipe.hset(keys.intake(match.peer_id), match.match_id, f"{requested_ms}|{name}")
        start, index = first, 0
        while start < end and index < 24:
            status = spb.SESSION_STATUS_BOOKED
            if start < now:
                roll = rng.random()
                status = (spb.SESSION_STATUS_ATTENDED if roll < 0.8 else
                          spb.SESSION_STATUS_NO_SHOW if roll < 0.9 else spb.SESSION_STATUS_CANCELLED)  # fmt: skip
            sid = f"{match.peer_id}~s{n}x{index}"
            session = spb.Session(session_id=sid, peer_id=match.peer_id, participant_ref=match.participant_ref,
                                  match_id=match.match_id, session_type="follow_up", status=status, sequence=1,
                                  participant_time_zone="America/New_York")  # fmt: skip
            session.start.FromDatetime(start)
            session.end.FromDatetime(start + HOUR)
            pipe.hset(keys.sessions(match.peer_id), sid, session.SerializeToString())
            pipe.zadd(keys.idx(match.peer_id), {f"{int(start.timestamp() * 1000):013d}|{sid}": 0})
            letter = spb.SessionStatus.Name(status).removeprefix("SESSION_STATUS_")[0]
            pipe.hset(keys.facts(match.peer_id), sid, f"{int(start.timestamp() * 1000)}|{letter}|{match.match_id}")
            made.sessions += 1
            start, index = start + timedelta(weeks=1), index + 1
        if n % 200 == 0:
            await pipe.execute()
    await pipe.execute()


@dataclass(frozen=True)
class Row:
    name: str
    buckets: int
    times_ms: list[float]
    size: int
    cpu_ms: float  # this process (both services and the client) per call
    valkey_cpu_ms: float

    def line(self) -> str:
        t = sorted(self.times_ms)
        p95 = t[min(len(t) - 1, int(0.95 * len(t)))]
        return (f"{self.name:<38}{self.buckets:>8}{statistics.median(t):>9.1f}{p95:>9.1f}{max(t):>9.1f}"
                f"{self.cpu_ms:>9.1f}{self.valkey_cpu_ms:>12.1f}{self.size:>10,}")  # fmt: skip


async def timed(call: Any, calls: int) -> tuple[list[float], int]:
    times, size = [], 0
    for _ in range(calls):
        t0 = time.perf_counter()
        reply = await call()
        times.append((time.perf_counter() - t0) * 1000)
        replies = reply if isinstance(reply, list) else [reply]
        size = sum(len(r.SerializeToString()) for r in replies)
    return times, size


async def both(m: Any, s: Any, pr: Any, sr: Any) -> list[Any]:
    return list(await asyncio.gather(m.GetProgrammeStats(pr), s.GetSessionStats(sr)))


async def measure(m: Any, s: Any, end: datetime, calls: int, valkey_pid: int) -> list[Row]:
    rows = []
    for weeks in (12, 52):
        start = Timestamp()
        start.FromDatetime(end - timedelta(weeks=weeks))
        stop = Timestamp()
        stop.FromDatetime(end)
        pr = mpb.GetProgrammeStatsRequest(start=start, end=stop)
        sr = spb.GetSessionStatsRequest(start=start, end=stop)
        calls_by_name = (
            ("GetProgrammeStats (matcher)", lambda pr=pr: m.GetProgrammeStats(pr)),
            ("GetSessionStats (scheduler)", lambda sr=sr: s.GetSessionStats(sr)),
            ("both at once (the dashboard page)", lambda pr=pr, sr=sr: both(m, s, pr, sr)),
        )
        for name, call in calls_by_name:
            await call()  # warm
            cpu, valkey = time.process_time(), cpu_seconds([valkey_pid])
            times, size = await timed(call, calls)
            cpu_ms = (time.process_time() - cpu) * 1000 / calls
            valkey_ms = (cpu_seconds([valkey_pid]) - valkey) * 1000 / calls
            rows.append(Row(name, weeks + 1, times, size, cpu_ms, valkey_ms))
    return rows


@dataclass
class Programme:
    """A year of a programme, served: the matcher and the scheduler running over it."""

    matcher: Runtime
    scheduler: Runtime
    made: Made
    end: datetime  # the simulated "now": the end of the year
    setup_matcher_s: float
    setup_scheduler_s: float
    valkey_pid: int


@contextlib.asynccontextmanager
async def programme(peers: int, weeks: int, per_week: int) -> AsyncIterator[Programme]:
    """Intakes through the matcher's real RPCs on a simulated clock, then the
    year's sessions written in the scheduler's layout (shared with bench.console_dashboard)."""
    kit_logging.configure("bench", "warning")
    rng = random.Random(15)
    clock = SimClock(START)
    with NatsServer() as nats, ValkeyServer() as valkey:
        urls = {"nats_url": nats.url, "redis_url": valkey.url}  # type: ignore[attr-defined]
        common = {**TEST_AUTH, **urls, "log_level": "warning"}
        matcher = build_matcher(MatcherSettings.from_env({}, **common, namespace="bench"), clock=clock)
        await matcher.start()
        t0 = time.perf_counter()
        async with channel(f"127.0.0.1:{matcher.port}", role="manager", subject="bench") as chan:
            made = await simulate(matcher_pb2_grpc.MatcherServiceStub(chan), clock, peers, weeks, per_week, rng)
        setup_matcher = time.perf_counter() - t0
        end = clock.now
        scheduler = build_scheduler(SchedulerSettings.from_env({}, **common, namespace="bench-s"), clock=lambda: end)
        await scheduler.start()
        assert matcher.deps is not None and valkey.proc is not None  # type: ignore[attr-defined]
        t0 = time.perf_counter()
        await write_sessions(matcher.deps.redis, "bench-s", made, end, rng)
        setup_scheduler = time.perf_counter() - t0
        try:
            yield Programme(
                matcher, scheduler, made, end, setup_matcher, setup_scheduler, valkey.proc.pid  # type: ignore[attr-defined]
            )
        finally:
            await scheduler.stop()
            await matcher.stop()


async def run(peers: int, weeks: int, per_week: int, calls: int) -> None:
    async with programme(peers, weeks, per_week) as p:
        mc = channel(f"127.0.0.1:{p.matcher.port}", role="manager", subject="bench")
        sc = channel(f"127.0.0.1:{p.scheduler.port}", role="manager", subject="bench")
        try:
            stubs = matcher_pb2_grpc.MatcherServiceStub(mc), scheduler_pb2_grpc.SchedulerServiceStub(sc)
            rows = await measure(*stubs, p.end, calls, p.valkey_pid)
        finally:
            await mc.close()
            await sc.close()
    made, setup_matcher, setup_scheduler = p.made, p.setup_matcher_s, p.setup_scheduler_s
    print(f"Dashboard aggregates: {peers} peers, {weeks} weeks, {made.intakes:,} intakes (real RPCs, "
          f"{setup_matcher:.0f} s), {len(made.matches):,} matches, {len(made.closed):,} closed, "
          f"{made.sessions:,} sessions (written directly, {setup_scheduler:.1f} s); "
          f"{calls} calls per row; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")  # fmt: skip
    head = f"{'rpc':<38}{'buckets':>8}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}"
    print(head + f"{'cpu ms':>9}{'valkey cpu':>12}{'bytes':>10}")
    for row in rows:
        print(row.line())
    worst = max(sorted(r.times_ms)[min(len(r.times_ms) - 1, int(0.95 * len(r.times_ms)))] for r in rows)
    verdict = "met" if worst < 150 else "NOT met"
    print(f"goal: each RPC well under the page's 300 ms (half of it): worst p95 {worst:.0f} ms, {verdict}")
    print("cpu ms: this process's CPU per call (the matcher and the scheduler run in it, with the client);"
          " valkey cpu: Valkey's, in ms per call. On a busy machine compare these, not the wall times.")


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
