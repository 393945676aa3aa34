"""SubmitMatchRequest end to end (gRPC, Redis write, outbox) over a 2,000-peer
roster, beside a bare grpc.aio echo service measured in the same run.

The matcher and the echo server run as child processes, against throwaway
NATS and Valkey; this process is only the load generator. Goals (issue 3):
whole RPC p99 <= 10 ms at 8 concurrent clients, and >= 1,000 intakes/s.

Run: ``python -m bench.match_rpc`` (or ``--quick``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import grpc

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.api.matcher.v1 import matcher_pb2_grpc
from alongside.kit.testing.auth import AUTH_ENV, token
from alongside.kit.testing.auth import channel as auth_channel
from alongside.kit.testing.processes import Child, cpu_seconds
from alongside.kit.testing.servers import NatsServer, ValkeyServer
from alongside.matcher.mappers import peer_out, request_out
from bench.echo_server import METHOD
from bench.match_scoring import make_peer, make_request
from bench.rpc_load import LoadResult, closed_loop, relay_pids, serving_pids

PEERS = 2000


def echo_process() -> tuple[subprocess.Popen[bytes], int]:
    proc = subprocess.Popen([sys.executable, "-m", "bench.echo_server"], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    line = proc.stdout.readline().decode()
    return proc, int(line.rsplit(":", 1)[1])


async def load_roster(stub: matcher_pb2_grpc.MatcherServiceStub, rng: random.Random) -> list[str]:
    peers = [make_peer(rng, i) for i in range(PEERS)]
    for i in range(0, PEERS, 50):
        await asyncio.gather(
            *(
                stub.UpsertPeer(pb.UpsertPeerRequest(idempotency_key=f"p-{p.peer_id}", peer=peer_out(p)))
                for p in peers[i : i + 50]
            )
        )
    return [p.peer_id for p in peers]


def matcher_process(env: dict[str, str], workers: int) -> Child:
    child = Child("alongside.matcher", {**env, "WORKERS": str(workers)})
    deadline = time.monotonic() + 60
    while child.output().count("listening on") < workers and time.monotonic() < deadline:
        time.sleep(0.05)
    return child


@dataclass(frozen=True)
class Row:
    name: str
    clients: int
    result: LoadResult
    cpu_ms: float | None = None  # the matcher's CPU per call (all workers)
    relay_ms: float | None = None  # its relay processes' CPU per call
    others_ms: dict[str, float] = field(default_factory=dict)  # every other process on the machine, per call


def spread(
    stubs: list[matcher_pb2_grpc.MatcherServiceStub], requests: list[pb.SubmitMatchRequestRequest]
) -> Callable[[int], Awaitable[object]]:
    """Call i goes to connection i mod n, with the next unused request.

    The token goes in each call's metadata rather than through a client
    interceptor, which in grpc.aio costs the load generator more CPU than the
    call itself; the server checks it the same way either way.
    """
    metadata = (("authorization", f"Bearer {token('intake', 'bench-intake')}"),)
    return lambda i: stubs[i % len(stubs)].SubmitMatchRequest(requests.pop(), metadata=metadata)


def echo_over(calls: list[Any], payload: bytes) -> Callable[[int], Awaitable[object]]:
    return lambda i: calls[i % len(calls)](payload)


async def intake_rows(
    env: dict[str, str],
    workers: int,
    requests: list[pb.SubmitMatchRequestRequest],
    calls: int,
    rounds: tuple[int, ...],
    others: dict[str, int] | None = None,
) -> list[Row]:
    """SubmitMatchRequest at each client count in ``rounds``, one connection
    per client; with ``others`` (name: pid), their CPU per call too."""
    matcher = matcher_process(env, workers)
    rows: list[Row] = []
    try:
        pids = serving_pids(matcher.proc.pid)
        channels = [
            grpc.aio.insecure_channel(f"127.0.0.1:{matcher.port}", options=[("grpc.use_local_subchannel_pool", 1)])
            for _ in range(max(rounds))
        ]
        stubs = [matcher_pb2_grpc.MatcherServiceStub(chan) for chan in channels]
        try:
            await closed_loop(spread(stubs, requests), 400, len(stubs))  # warm: roster loaded, caches filled
            relays = relay_pids(matcher.proc.pid)
            for clients in rounds:
                before, relay_before = cpu_seconds(pids), cpu_seconds(relays)
                others_before = {name: cpu_seconds([pid]) for name, pid in (others or {}).items()}
                result = await closed_loop(spread(stubs[:clients], requests), calls, clients)
                cpu_ms = (cpu_seconds(pids) - before) * 1000 / calls
                relay_ms = (cpu_seconds(relays) - relay_before) * 1000 / calls
                others_ms = {
                    name: (cpu_seconds([pid]) - others_before[name]) * 1000 / calls
                    for name, pid in (others or {}).items()
                }
                label = "SubmitMatchRequest" + (f", {workers} workers" if workers > 1 else "")
                label += ", relay inline" if env.get("OUTBOX_RELAY") == "inline" else ""
                rows.append(Row(label, clients, result, cpu_ms, relay_ms, others_ms))
        finally:
            for chan in channels:
                await chan.close()
    finally:
        matcher.close()
    return rows


async def run(calls: int) -> list[Row]:
    rng = random.Random(7)
    with NatsServer() as nats, ValkeyServer() as valkey:
        env = {**AUTH_ENV, "NATS_URL": nats.url, "REDIS_URL": valkey.url, "NAMESPACE": "bench", "LOG_LEVEL": "warning"}  # type: ignore[attr-defined]
        loader = Child("alongside.matcher", env)
        try:
            async with auth_channel(f"127.0.0.1:{loader.port}") as channel:
                ids = await load_roster(matcher_pb2_grpc.MatcherServiceStub(channel), rng)
        finally:
            loader.close()
        requests = [request_out(make_request(rng, i, ids), f"bench-{i}") for i in range(1600 + 6 * calls)]
        echo, echo_port = echo_process()
        rows: list[Row] = []
        try:
            echo_channels = [
                grpc.aio.insecure_channel(f"127.0.0.1:{echo_port}", options=[("grpc.use_local_subchannel_pool", 1)])
                for _ in range(8)
            ]
            payload = requests[0].SerializeToString()
            echo_calls = [chan.unary_unary(METHOD) for chan in echo_channels]
            assert nats.proc is not None and valkey.proc is not None
            others = {"NATS": nats.proc.pid, "Valkey": valkey.proc.pid, "load generator": os.getpid()}
            single = await intake_rows(env, 1, requests, calls, (1, 8), others)
            for clients, intake in zip((1, 8), single, strict=True):
                echo_result = await closed_loop(echo_over(echo_calls[:clients], payload), calls, clients)
                rows += [Row("bare echo RPC", clients, echo_result), intake]
            rows += await intake_rows(env, 2, requests, calls, (8,))
            rows += await intake_rows({**env, "OUTBOX_RELAY": "inline"}, 1, requests, calls, (8,))
            for chan in echo_channels:
                await chan.close()
        finally:
            echo.terminate()
            echo.wait()
        return rows


def budget(row: Row) -> str:
    """Where the machine's CPU goes per intake, and the ceilings that follow."""
    parts = {"matcher": row.cpu_ms or 0.0, "its relay": row.relay_ms or 0.0, **row.others_ms}
    total = sum(parts.values())
    cores = os.cpu_count() or 1
    terms = " + ".join(f"{name} {ms:.2f}" for name, ms in parts.items())
    return (
        f"CPU per intake at {row.clients} clients: {terms} = {total:.2f} ms; {cores} cores allow at most"
        f" {1000 * cores / total:,.0f}/s, the matcher's one event loop at most {1000 / (row.cpu_ms or 1):,.0f}/s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    args = parser.parse_args(argv)
    calls = 300 if args.quick else 3000
    results = asyncio.run(run(calls))
    load = os.getloadavg()[0]
    print(f"Online intake RPC, {PEERS} peers, {calls} calls per row; load average {load:.2f} on {os.cpu_count()} CPUs")
    print(
        f"{'rpc':<33}{'clients':>8}{'p50 ms':>9}{'p99 ms':>9}{'calls/s':>10}{'errors':>8}{'srv cpu ms':>12}"
        f"{'relay cpu ms':>14}   goal"
    )
    for row in results:
        name, clients, r, cpu_ms, relay_ms = row.name, row.clients, row.result, row.cpu_ms, row.relay_ms
        goal = ""
        if name.startswith("SubmitMatchRequest") and clients == 8:
            met = r.pct(99) <= 10 and r.rate >= 1000
            goal = f"p99 <= 10 ms and >= 1,000/s: {'met' if met else 'NOT met'}"
        cpu = "-" if cpu_ms is None else f"{cpu_ms:.2f}"
        relay = "-" if relay_ms is None else f"{relay_ms:.2f}"
        print(
            f"{name:<33}{clients:>8}{r.p50:>9.2f}{r.pct(99):>9.2f}{r.rate:>10.0f}{r.errors:>8}{cpu:>12}{relay:>14}"
            f"   {goal}"
        )
    print(
        "one connection per client; srv cpu ms = the matcher's CPU per call, all workers together;"
        " relay cpu ms = its outbox relay processes' (OUTBOX_RELAY=process)"
    )
    for row in results:
        if row.others_ms and row.clients == 8:
            print(budget(row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
