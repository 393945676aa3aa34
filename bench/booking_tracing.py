"""What tracing costs a booking: scheduler CPU per BookSession call with
tracing off, at 10 % and at 100 % sampling, in one run, beside an A/A
control (a second scheduler with tracing off) that prints the noise floor,
and tracing on with no root sampled (what is paid without any span).

Run: ``python -m bench.scheduler_booking --tracing`` (``--quick`` for a smoke run).

Five schedulers run side by side on the same NATS and Valkey, one per
setting, each in its own namespace (sharing one, a scheduler's relay and
consumers could take a share of the others' events, and of their CPU). Each
short round loads them one after another (the order rotating), with all the
clients (``--clients``, 64 by default: the booking bench's contention). The
schedulers are started afresh eight times (blocks of four rounds, the start
order rotating), all with one hash seed: two processes of the same code
differ by a few %, more from block to block than from round to round, so no
setting's figure is one process's. ``--together`` loads all five at once,
for the same window, a fifth of the clients each: the machine's load
then falls on all alike at every moment, but a scheduler that is slower
gets fewer calls at a time, batches less and so spends more per call,
which magnifies any difference (``docs/benchmarks.md``); ``--clients 1``
with it measures calls that never batch.

The measure is CPU time, not wall time: the scheduler's threads' time on a
CPU (``/proc/<pid>/task/*/schedstat``, nanoseconds; the exporter's thread
included) over the round's calls and the 0.3 s after them (the relay's and
the exporter's work), per call. Each round gives each setting a ratio
against the same round's tracing off (the mean of the two schedulers with
tracing off); the table shows the median over all rounds with a 95 %
bootstrap interval (blocks drawn, then rounds). "off again" is the A/A row:
the second scheduler with tracing off against the first, what "vs off"
reads when nothing differs. The traced schedulers export by OTLP/gRPC to a
receiver in this process that counts the spans and drops them; every
sampled span is built, batched and sent as in production. Goal (issue 20):
at most 3 % more CPU per call at 10 %.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import statistics
import subprocess
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import redis.asyncio as aioredis
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from alongside.api.scheduler.v1 import scheduler_pb2 as pb
from alongside.kit.testing.auth import AUTH_ENV, token
from alongside.kit.testing.servers import NatsServer, ValkeyServer
from bench import scheduler_booking as booking

GOAL_PCT = 3.0
WARM = 400  # calls per scheduler before the rounds
CLIENTS = 64  # in all, as bench.scheduler_booking
SETTLE_S = 0.3  # after a round's last answer: the relay's publishes and the exporter's next batch
EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
OFF, AGAIN, NONE, TEN, ALL = "tracing off", "off again (A/A)", "on, 0 % sampled", "10 % sampled", "100 % sampled"


@dataclass(frozen=True)
class Setting:
    label: str
    env: dict[str, str]


@dataclass(frozen=True)
class Round:
    """One setting's share of one round: its calls, wall time and CPU."""

    calls: int
    seconds: float
    latencies_ms: list[float]
    main_s: float  # the event loop's thread
    other_s: float  # every other thread (gRPC's, the exporter's, the metrics server's)

    @property
    def cpu(self) -> float:
        """CPU seconds per call, all threads."""
        return (self.main_s + self.other_s) / self.calls

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


class Sink:
    """An OTLP/gRPC trace endpoint that counts what it is sent (requests,
    bytes and spans, by service name) and drops it."""

    def __init__(self) -> None:
        self.requests = 0
        self.bytes = 0
        self.spans: Counter[str] = Counter()
        self._server = grpc.server(ThreadPoolExecutor(max_workers=2))

        def export(request: bytes, context: object) -> bytes:
            self.requests += 1
            self.bytes += len(request)
            message = trace_service_pb2.ExportTraceServiceRequest.FromString(request)
            for resource in message.resource_spans:
                name = next(a.value.string_value for a in resource.resource.attributes if a.key == "service.name")
                self.spans[name] += sum(len(scope.spans) for scope in resource.scope_spans)
            return b""  # an empty ExportTraceServiceResponse

        handler = grpc.unary_unary_rpc_method_handler(export)  # no (de)serialisers: raw bytes
        self._server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler(EXPORT.split("/")[1], {EXPORT.split("/")[2]: handler}),)
        )
        self.port = self._server.add_insecure_port("127.0.0.1:0")

    def __enter__(self) -> Sink:
        self._server.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.stop(None)


def settings(sink: Sink) -> list[Setting]:
    export = {
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{sink.port}",
        "OTEL_EXPORTER_OTLP_INSECURE": "true",
    }
    ratio = {**export, "OTEL_TRACES_SAMPLER": "parentbased_traceidratio"}
    return [
        Setting(OFF, {}),
        Setting(AGAIN, {}),
        # On, but no root sampled: what is paid without any span (the context carried, the helpers' checks).
        Setting(NONE, {**ratio, "OTEL_TRACES_SAMPLER_ARG": "0", "OTEL_SERVICE_NAME": "scheduler-2"}),
        Setting(TEN, {**ratio, "OTEL_TRACES_SAMPLER_ARG": "0.1", "OTEL_SERVICE_NAME": "scheduler-3"}),
        Setting(ALL, {**ratio, "OTEL_TRACES_SAMPLER_ARG": "1.0", "OTEL_SERVICE_NAME": "scheduler-4"}),
    ]


def thread_cpu(pid: int) -> tuple[float, float]:
    """(the main thread's, all other threads') time on a CPU so far, in
    seconds, from the scheduler's per-thread ``schedstat`` (nanoseconds:
    a tick-counted ``utime`` would be 10 ms coarse in a round of ~1 s)."""
    main = other = 0.0
    for tid in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):  # a thread that just ended
            ns = int(Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split()[0])
            if int(tid) == pid:
                main += ns / 1e9
            else:
                other += ns / 1e9
    return main, other


class Load:
    """Closed-loop clients of one scheduler: connected by ``open``, then
    ``run`` calls BookSession until ``total`` calls are made or ``window``
    seconds have passed, with the scheduler's CPU read around them."""

    def __init__(
        self, proc: tuple[subprocess.Popen[bytes], int], work: booking.Workload, total: int, label: str, clients: int
    ) -> None:
        self._pid = proc[0].pid
        self._requests = [
            pb.BookSessionRequest(
                idempotency_key=f"{label}-{i}",
                peer_id=peer_id,
                participant_ref=f"ref-{label}-{i}",
                session_type="check_in",
                start=booking.ts(start),
            ).SerializeToString()
            for i, (peer_id, start) in enumerate(work.slots(total))
        ]
        options = [("grpc.use_local_subchannel_pool", 1)]
        self._channels = [grpc.aio.insecure_channel(f"127.0.0.1:{proc[1]}", options=options) for _ in range(clients)]
        self._metadata = (("authorization", f"Bearer {token('admin', 'bench-admin')}"),)

    async def open(self) -> None:
        for channel in self._channels:  # connected before the clock starts
            await channel.channel_ready()

    async def run(self, window: float | None = None) -> Round:
        methods = [c.unary_unary(booking.BOOK) for c in self._channels]
        counter = iter(range(len(self._requests)))
        latencies: list[float] = []
        began = time.perf_counter()
        until = began + (window or float("inf"))

        async def client(method: grpc.aio.UnaryUnaryMultiCallable) -> None:
            for i in counter:
                start = time.perf_counter()
                if start > until:
                    return
                await method(self._requests[i], metadata=self._metadata).code()  # refusals raise nothing here
                latencies.append((time.perf_counter() - start) * 1000)

        main, other = thread_cpu(self._pid)
        await asyncio.gather(*(client(m) for m in methods))
        seconds = time.perf_counter() - began
        await asyncio.sleep(SETTLE_S)
        main_after, other_after = thread_cpu(self._pid)
        return Round(len(latencies), seconds, latencies, main_after - main, other_after - other)

    async def close(self) -> None:
        for channel in self._channels:
            await channel.close()


async def measure(loads: list[Load], window: float | None) -> list[Round]:
    """``loads`` at once (their clients connected first), for ``window``
    seconds each (None: until each has made its calls)."""
    try:
        for load in loads:
            await load.open()
        return list(await asyncio.gather(*(load.run(window) for load in loads)))
    finally:
        for load in loads:
            await load.close()


def interval(values: list[float], per_block: int, draws: int = 2000) -> tuple[float, float]:
    """A 95 % bootstrap interval of the median of ``values``, ``per_block``
    rounds a block in order: blocks drawn with replacement, then rounds within
    each (two processes' figures differ by more between blocks than between
    rounds, so rounds alone would claim too narrow an interval). Seeded: the
    same rounds print the same interval."""
    rng = random.Random(20)
    blocks = [values[i : i + per_block] for i in range(0, len(values), per_block)]
    medians = sorted(
        statistics.median([x for block in rng.choices(blocks, k=len(blocks)) for x in rng.choices(block, k=len(block))])
        for _ in range(draws)
    )
    return medians[int(0.025 * draws)], medians[int(0.975 * draws) - 1]


def versus(rounds: list[Round], *offs: list[Round]) -> list[float]:
    """Per round: this setting's CPU per call against the same round's tracing
    off (the mean of ``offs``' rounds), in %."""
    return [100 * (r.cpu / statistics.fmean(o.cpu for o in same) - 1) for r, *same in zip(rounds, *offs, strict=True)]


def table(runs: dict[str, list[Round]], sink: Sink, blocks: int) -> str:
    per_block = len(runs[OFF]) // blocks
    head = (
        f"{'setting':<17}{'calls':>7}{'calls/s':>9}{'p50 ms':>8}{'p99 ms':>8}"
        f"{'cpu us/call':>12}{'main':>7}{'other':>7}{'vs off':>9}{'95 % interval':>18}"
    )
    lines = [head, "-" * len(head)]
    off, both = runs[OFF], (runs[OFF], runs[AGAIN])  # the A/A row against one; the others against both

    def against(label: str) -> list[float]:
        return versus(runs[label], off) if label == AGAIN else versus(runs[label], *both)

    for label, rounds in runs.items():
        calls = sum(r.calls for r in rounds)
        rate = statistics.median(r.calls / r.seconds for r in rounds)
        p50 = statistics.median(r.pct(50) for r in rounds)
        p99 = statistics.median(r.pct(99) for r in rounds)
        cpu = 1e6 * statistics.median(r.cpu for r in rounds)
        main = 1e6 * statistics.median(r.main_s / r.calls for r in rounds)
        other = 1e6 * statistics.median(r.other_s / r.calls for r in rounds)
        extra = spread = ""
        if label != OFF:
            ratios = against(label)
            low, high = interval(ratios, per_block)
            extra, spread = f"{statistics.median(ratios):+.1f} %", f"{low:+.1f} .. {high:+.1f} %"
        lines.append(
            f"{label:<17}{calls:>7}{rate:>9,.0f}{p50:>8.2f}{p99:>8.2f}{cpu:>12.1f}{main:>7.1f}{other:>7.1f}"
            f"{extra:>9}{spread:>18}"
        )
    ten = against(TEN)
    at_ten, (low, high) = statistics.median(ten), interval(ten, per_block)
    verdict = "met" if at_ten <= GOAL_PCT else "NOT met"
    resolved = (
        "the interval is below the goal"
        if high <= GOAL_PCT
        else "the interval is above the goal"
        if low > GOAL_PCT
        else "the interval spans the goal"
    )
    goal = f"goal: <= {GOAL_PCT:.0f} % more CPU per call at 10 % sampling"
    lines.append(f"{goal}: {verdict} ({at_ten:+.1f} %; {resolved})")
    for label in runs:
        if label != OFF:
            ratios = against(label)
            each = " | ".join(
                " ".join(f"{x:+.1f}" for x in ratios[i : i + per_block]) for i in range(0, len(ratios), per_block)
            )
            lines.append(f"  {label} vs off, round by round, block by block (%): {each}")
    lines.append(f"exported: {sink.requests} OTLP requests, {sink.bytes / 1e6:.1f} MB (dropped by the sink)")
    for i, label in enumerate(runs):
        if spans := sink.spans[f"scheduler-{i}"]:
            calls = blocks * WARM + sum(r.calls for r in runs[label])
            lines.append(f"  {label}: {spans} spans, {spans / calls:.2f} a call (warm-up included)")
    lines.append(
        "cpu us/call: the scheduler's threads' time on a CPU over a round and the 0.3 s after it, per call, median over"
    )
    lines.append("the rounds (main: the event loop's thread; other: gRPC's threads and the exporter's);")
    lines.append("vs off: median over the rounds of (this setting / tracing off in the same round) - 1, and a 95 %")
    lines.append("bootstrap interval of that median; tracing off: the mean of the two schedulers with tracing off,")
    lines.append("except for 'off again' (the A/A row: the second against the first, the noise floor of one pair)")
    return "\n".join(lines)


async def block(
    chosen: list[Setting], env: dict[str, str], folder: Path, name: str, shape: Shape
) -> tuple[dict[str, list[Round]], list[float]]:
    """Fresh schedulers, one per setting (each in a namespace of its own: with
    a shared one, one scheduler's relay and consumers could do the others'
    background work), then ``rounds`` rounds: per setting its rounds, and the
    CPU seconds each scheduler got."""
    procs: list[tuple[subprocess.Popen[bytes], int]] = []
    runs: dict[str, list[Round]] = {s.label: [] for s in chosen}
    peers = [f"peer-{i}" for i in range(4)]
    base = (datetime.now(UTC) + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    # The warm-up books a fortnight of its own; then all of a block's rounds
    # book into one fortnight (a new random draw of slots each round), about
    # 3,200 calls into it as in the morning's runs (3,000), so calls collide
    # as often: with a fortnight a round, more calls book, and a booking
    # makes more spans and events than a refusal.
    warm = booking.Workload(peers, base, 14 * 96, 1)

    def fresh(n: int) -> booking.Workload:
        return booking.Workload(peers, base + timedelta(days=15), 14 * 96, 7 + n)

    r = aioredis.Redis.from_url(env["REDIS_URL"])
    first = int(name) % len(chosen)  # the settings started in a rotated order, block by block
    starts = {i: (i - first) % len(chosen) for i in range(len(chosen))}
    try:
        started: dict[int, tuple[subprocess.Popen[bytes], int]] = {}
        for i in sorted(starts, key=starts.__getitem__):
            namespace = f"{booking.NAMESPACE}{name}x{starts[i]}"
            env_i = {**env, "NAMESPACE": namespace, **chosen[i].env}
            started[i] = booking.start_scheduler(env_i, folder / f"{name}x{starts[i]}")
            await booking.publish_peers(env["NATS_URL"], r, peers, namespace)
        procs += [started[i] for i in range(len(chosen))]
        began = [sum(thread_cpu(proc.pid)) for proc, _ in procs]
        for proc in procs:
            await booking.bench_rpc(proc, warm, WARM, 16, f"warm{proc[1]}")
        for n in range(shape.rounds):
            if shape.together:  # for the same window, so no scheduler runs alone at the end
                loads = [Load(p, fresh(n), 10 * shape.calls, f"r{n}-{p[1]}", shape.clients) for p in procs]
                window = shape.calls / 300  # about that many calls each at ~300 calls/s each
                for setting, run in zip(chosen, await measure(loads, window), strict=True):
                    runs[setting.label].append(run)
                continue
            order = [(n + i) % len(chosen) for i in range(len(chosen))]
            for setting, proc in [(chosen[i], procs[i]) for i in order]:
                (run,) = await measure([Load(proc, fresh(n), shape.calls, f"r{n}-{proc[1]}", shape.clients)], None)
                runs[setting.label].append(run)
        return runs, [sum(thread_cpu(proc.pid)) - b for (proc, _), b in zip(procs, began, strict=True)]
    finally:
        await r.aclose()
        booking.stop_all(procs)


@dataclass(frozen=True)
class Shape:
    """A run's shape: blocks of fresh schedulers, rounds a block, calls a
    setting a round, clients a scheduler, and the settings at once or not."""

    blocks: int
    rounds: int
    calls: int
    clients: int
    together: bool


async def main(quick: bool, together: bool = False, clients: int | None = None) -> int:
    """The run: ``blocks`` times, five fresh schedulers (so a setting is not
    tied to one process: two processes of the same code differ by a few %,
    what the A/A row shows), each block ``rounds`` rounds. In a round the
    settings run one after another with all the clients, or all at once with
    a fifth of them each (``together``)."""
    blocks, rounds, per_round = (1, 4, 300) if quick else (8, 4, 800)
    load_before = os.getloadavg()
    nats_server, valkey = NatsServer(), ValkeyServer()
    with tempfile.TemporaryDirectory() as folder, contextlib.ExitStack() as stack:
        for server in (nats_server, valkey):
            server.start()
            stack.callback(server.close)
        sink = stack.enter_context(Sink())
        env = {
            **AUTH_ENV,
            "NATS_URL": nats_server.url,
            "REDIS_URL": valkey.url,
            "MAX_SESSIONS_PER_DAY": "200",
            "PYTHONHASHSEED": "0",  # the same dict and set layouts in every scheduler
        }
        chosen = settings(sink)
        each = clients or (CLIENTS // len(chosen) if together else CLIENTS)
        shape = Shape(blocks, rounds, per_round, each, together)
        runs: dict[str, list[Round]] = {s.label: [] for s in chosen}
        used = [0.0] * len(chosen)
        for b in range(blocks):
            made, cpu = await block(chosen, env, Path(folder), str(b), shape)
            for label, rs in made.items():
                runs[label] += rs
            used = [u + c for u, c in zip(used, cpu, strict=True)]
    how = f"all at once, {each} clients each" if together else f"one by one, {each} clients"
    print(
        f"tracing cost on BookSession: {blocks} blocks of fresh schedulers x {rounds} rounds of {per_round} calls "
        f"a setting, {how}; {os.cpu_count()} cores, load average (1/5/15 min) "
        f"{'/'.join(f'{x:.2f}' for x in load_before)} at the start, "
        f"{'/'.join(f'{x:.2f}' for x in os.getloadavg())} at the end; "
        f"CPU seconds each setting's schedulers got: {', '.join(f'{u:.1f}' for u in used)}"
    )
    print(table(runs, sink, blocks))
    return 0
