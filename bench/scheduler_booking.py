"""BookSession throughput under contention, beside a raw Lua check-and-set.

Run: ``python bench/scheduler_booking.py`` (or ``--quick`` for a smoke run;
``--tracing`` measures what tracing costs per call instead: ``bench.booking_tracing``).

Throwaway NATS and Valkey; the scheduler runs as a child process (as in
production: its own interpreter and core) and this process only generates
load. Many clients book random 15-minute-grid slots of a few peers, so most
requests collide and are refused; every request is a full booking RPC (the
peer's calendar read, the window rules, the atomic conflict-check-and-write
script with the session, indexes, reminders, outbox event and idempotency
record, then the outbox relay to JetStream). Afterwards every peer's booked
set is audited for overlaps, buffers included.

Baseline, in the same run against the same Valkey: a bare Lua script that
only checks one interval against a sorted set and adds it (no session
record, no event), from a redis-py client, sequential and 64 concurrent.
Goal (issue 4): booking RPCs >= 1,500/s, with zero overlaps.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import nats
import redis.asyncio as aioredis
from google.protobuf.timestamp_pb2 import Timestamp

from alongside.api.common.v1 import types_pb2
from alongside.api.matcher.v1 import events_pb2 as matcher_ev
from alongside.api.matcher.v1 import matcher_pb2 as matcher_pb
from alongside.api.scheduler.v1 import scheduler_pb2 as pb
from alongside.kit.events.envelope import Event
from alongside.kit.events.streams import provision
from alongside.kit.redis import Keys
from alongside.kit.testing.auth import AUTH_ENV, token
from alongside.kit.testing.processes import cpu_seconds
from alongside.kit.testing.servers import NatsServer, ValkeyServer, free_port
from bench.rpc_load import serving_pids

NAMESPACE = "bench"
GOAL = 1500.0
SESSION = timedelta(minutes=30)
BUFFER = timedelta(minutes=15)
GRID = timedelta(minutes=15)
BOOK = "/alongside.scheduler.v1.SchedulerService/BookSession"

RAW_CAS = """
local s, e, pad, maxlen = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local near = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. (s - pad - maxlen), '(' .. (e + pad), 'WITHSCORES')
for i = 1, #near, 2 do
  local other_end = tonumber(string.match(near[i], '|(%d+)$'))
  if s < other_end + pad and tonumber(near[i + 1]) < e + pad then return 0 end
end
redis.call('ZADD', KEYS[1], s, ARGV[5] .. '|' .. e)
return 1
"""


@dataclass(frozen=True)
class Run:
    method: str
    clients: int
    calls: int
    outcomes: Counter[str]
    seconds: float
    latencies_ms: list[float]
    server_cpu_s: float = 0.0
    client_cpu_s: float = 0.0

    @property
    def rate(self) -> float:
        return self.calls / self.seconds

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


async def closed_loop(method: str, call: Callable[[int], Awaitable[str]], total: int, clients: int) -> Run:
    """``clients`` loops, each sending its next call when the last one answered."""
    outcomes: Counter[str] = Counter()
    latencies: list[float] = []
    counter = iter(range(total))

    async def client() -> None:
        for i in counter:
            began = time.perf_counter()
            outcomes[await call(i)] += 1
            latencies.append((time.perf_counter() - began) * 1000)

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return Run(method, clients, total, outcomes, time.perf_counter() - began, latencies)


@dataclass(frozen=True)
class Workload:
    """Random grid starts for a few peers over the next days (seeded)."""

    peers: list[str]
    base: datetime
    grid_points: int
    seed: int

    def slots(self, count: int) -> list[tuple[str, datetime]]:
        rng = random.Random(self.seed)
        return [(rng.choice(self.peers), self.base + GRID * rng.randrange(self.grid_points)) for _ in range(count)]


def ts(instant: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(instant)
    return stamp


def start_scheduler(env: dict[str, str], folder: Path, workers: int = 1) -> tuple[subprocess.Popen[bytes], int]:
    """The scheduler as a child process (with ``workers`` worker processes); its
    log goes to a file so it never blocks on a pipe."""
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "scheduler.log"
    full = {**os.environ, **env, "LISTEN_ADDR": f"127.0.0.1:{port}", "LOG_LEVEL": "warning", "WORKERS": str(workers)}
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "alongside.scheduler"], env=full, stdout=out, stderr=out)
    deadline = time.monotonic() + 60
    while log.read_bytes().count(b"listening on") < workers:
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"scheduler did not start: {log.read_text()[-2000:]}")
        time.sleep(0.05)
    return proc, port


async def publish_peers(nats_url: str, r: aioredis.Redis, peers: list[str], namespace: str = NAMESPACE) -> None:
    """The roster's peer.upserted events (every day, all day, UTC), then wait until the scheduler
    (in ``namespace``) has them."""
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await provision(js, namespace)
    windows = [types_pb2.WeeklyWindow(day=d, start_minute=0, end_minute=1440) for d in range(1, 8)]  # type: ignore[arg-type]
    for peer_id in peers:
        body = matcher_ev.PeerUpserted(
            peer_id=peer_id, status=matcher_pb.PEER_STATUS_ACTIVE, time_zone="UTC", availability=windows, version=1
        )
        event = Event.of("peer.upserted", "/alongside/matcher", body, subject=peer_id)
        await js.publish(event.nats_subject(namespace), event.body, headers=event.headers())
    await nc.drain()
    keys = Keys(namespace, "scheduler")
    deadline = time.monotonic() + 30
    while not all([await r.exists(keys.key(f"peer:{p}", "cal")) for p in peers]):
        if time.monotonic() > deadline:
            raise RuntimeError("the scheduler never received the peers")
        await asyncio.sleep(0.05)


async def bench_rpc(
    proc: tuple[subprocess.Popen[bytes], int], workload: Workload, total: int, clients: int, label: str
) -> Run:
    """BookSession through real connections to one replica, one per client.

    Requests are serialised before the clock starts, answers are not parsed,
    and the token travels as call metadata (a grpc.aio client interceptor
    costs the load generator more CPU than the call), so the load generator
    spends its time on the calls themselves.
    """
    requests = [
        pb.BookSessionRequest(
            idempotency_key=f"{label}-{i}",
            peer_id=peer_id,
            participant_ref=f"ref-{label}-{i}",
            session_type="check_in",
            start=ts(start),
        ).SerializeToString()
        for i, (peer_id, start) in enumerate(workload.slots(total))
    ]
    server, port = proc
    pids = serving_pids(server.pid)
    options = [("grpc.use_local_subchannel_pool", 1)]
    channels = [grpc.aio.insecure_channel(f"127.0.0.1:{port}", options=options) for _ in range(clients)]
    metadata = (("authorization", f"Bearer {token('admin', 'bench-admin')}"),)
    try:
        methods = [c.unary_unary(BOOK) for c in channels]

        async def call(i: int) -> str:
            # Awaiting the status, not the answer: a refusal raises no exception here.
            return str((await methods[i % len(methods)](requests[i], metadata=metadata).code()).name)

        name = "BookSession RPC" if len(pids) == 1 else f"BookSession, {len(pids)} workers"
        before, client_before = cpu_seconds(pids), cpu_seconds([os.getpid()])
        run = await closed_loop(name, call, total, clients)
        return replace(
            run,
            server_cpu_s=cpu_seconds(pids) - before,
            client_cpu_s=cpu_seconds([os.getpid()]) - client_before,
        )
    finally:
        for channel in channels:
            await channel.close()


async def bench_raw(r: aioredis.Redis, workload: Workload, total: int, clients: int, label: str) -> Run:
    script = r.register_script(RAW_CAS)
    slots = workload.slots(total)
    pad, maxlen = int(BUFFER.total_seconds() * 1000), 8 * 3600 * 1000

    async def call(i: int) -> str:
        peer_id, start = slots[i]
        s = int(start.timestamp() * 1000)
        e = s + int(SESSION.total_seconds() * 1000)
        won = await script(keys=[f"raw:{label}:{{{peer_id}}}"], args=[s, e, pad, maxlen, f"{label}-{i}"])
        return "OK" if won else "FAILED_PRECONDITION"

    return await closed_loop("raw Lua check-and-set", call, total, clients)


def stop_all(procs: list[tuple[subprocess.Popen[bytes], int]]) -> None:
    for proc, _ in procs:
        proc.terminate()
    for proc, _ in procs:
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


async def overlaps(r: aioredis.Redis, peers: list[str]) -> tuple[int, int]:
    """(sessions booked, pairs closer than the buffer) over every peer's booked set."""
    keys = Keys(NAMESPACE, "scheduler")
    booked = bad = 0
    for peer_id in peers:
        rows: Any = await r.zrange(keys.key(f"peer:{peer_id}", "booked"), 0, -1, withscores=True)
        spans = sorted((int(score), int(member.rsplit(b"|", 1)[1])) for member, score in rows)
        booked += len(spans)
        pad = int(BUFFER.total_seconds() * 1000)
        bad += sum(1 for (_, end), (start, _) in itertools.pairwise(spans) if start < end + pad)
    return booked, bad


def table(runs: list[Run], booked: int, bad: int) -> str:
    head = (
        f"{'method':<24}{'clients':>8}{'calls':>7}{'ok':>6}{'refused':>8}{'other':>6}"
        f"{'calls/s':>9}{'p50 ms':>8}{'p99 ms':>8}{'srv cpu ms':>11}{'load cpu ms':>12}"
    )
    lines = [head, "-" * len(head)]
    for run in runs:
        ok = run.outcomes["OK"]
        refused = run.outcomes["FAILED_PRECONDITION"] + run.outcomes["ABORTED"]
        cpu = f"{1000 * run.server_cpu_s / run.calls:.2f}" if run.server_cpu_s else "-"
        load = f"{1000 * run.client_cpu_s / run.calls:.2f}" if run.client_cpu_s else "-"
        lines.append(
            f"{run.method:<24}{run.clients:>8}{run.calls:>7}{ok:>6}{refused:>8}{run.calls - ok - refused:>6}"
            f"{run.rate:>9,.0f}{run.pct(50):>8.2f}{run.pct(99):>8.2f}{cpu:>11}{load:>12}"
        )
    best = max(r.rate for r in runs if r.method.startswith("BookSession"))
    verdict = "met" if best >= GOAL and bad == 0 else "NOT met"
    lines.append(f"goal: booking RPCs >= {GOAL:,.0f}/s with zero overlaps: {verdict} (best {best:,.0f}/s)")
    lines.append(f"audit: {booked} sessions booked, {bad} pairs closer than the {BUFFER} buffer")
    lines.append("srv cpu ms: scheduler CPU per call (both workers together in the two-worker row);")
    lines.append("load cpu ms: this load generator's CPU per call, on the same two cores")
    return "\n".join(lines)


async def main(quick: bool) -> int:
    total = 1_000 if quick else 6_000
    peers = [f"peer-{i}" for i in range(4)]
    base = (datetime.now(UTC) + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    fortnight = 14 * 96

    def fresh(days: int, seed: int) -> Workload:
        """Each run books its own empty fortnight, so all runs meet the same contention."""
        return Workload(peers, base + timedelta(days=days), fortnight, seed)

    n, v = NatsServer(), ValkeyServer()
    with tempfile.TemporaryDirectory() as folder, contextlib.ExitStack() as stack:
        for server in (n, v):
            server.start()
            stack.callback(server.close)
        env = {**AUTH_ENV, "NATS_URL": n.url, "REDIS_URL": v.url, "NAMESPACE": NAMESPACE, "MAX_SESSIONS_PER_DAY": "200"}
        procs: list[tuple[subprocess.Popen[bytes], int]] = []
        stack.callback(stop_all, procs)
        procs += [start_scheduler(env, Path(folder) / "one"), start_scheduler(env, Path(folder) / "two", workers=2)]
        single, double = procs
        r = aioredis.Redis.from_url(v.url)
        try:
            await publish_peers(n.url, r, peers)
            await bench_rpc(single, fresh(300, 1), 400, 16, "warm1")
            await bench_rpc(double, fresh(315, 1), 400, 16, "warm2")
            runs = [
                await bench_raw(r, fresh(0, 7), total // 2, 1, "raw1"),
                await bench_raw(r, fresh(0, 7), total, 64, "raw64"),
                await bench_rpc(single, fresh(0, 7), total // 2, 1, "rpc1"),
                await bench_rpc(single, fresh(15, 7), total, 64, "rpc64"),
                await bench_rpc(double, fresh(30, 7), total, 64, "two64"),
            ]
            booked, bad = await overlaps(r, peers)
        finally:
            await r.aclose()
    load = os.getloadavg()[0]
    print(
        f"scheduler booking throughput: {len(peers)} peers, 30-minute sessions on a 15-minute grid; "
        f"{os.cpu_count()} cores, load average {load:.2f} at the end"
    )
    print(table(runs, booked, bad))
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a fast smoke run")
    parser.add_argument("--tracing", action="store_true", help="CPU per call with tracing off, at 10 %% and 100 %%")
    parser.add_argument("--together", action="store_true", help="with --tracing: a round's settings all at once")
    parser.add_argument("--clients", type=int, default=None, help="with --tracing: clients a scheduler (16, or 64)")
    args = parser.parse_args()
    if args.tracing:
        from bench import booking_tracing

        raise SystemExit(asyncio.run(booking_tracing.main(args.quick, args.together, args.clients)))
    raise SystemExit(asyncio.run(main(args.quick)))
