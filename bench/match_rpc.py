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
from collections.abc import Awaitable, Callable

import grpc

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.api.matcher.v1 import matcher_pb2_grpc
from alongside.kit.testing.auth import AUTH_ENV
from alongside.kit.testing.auth import channel as auth_channel
from alongside.kit.testing.processes import Child
from alongside.kit.testing.servers import NatsServer, ValkeyServer
from alongside.matcher.mappers import peer_out, request_out
from bench.echo_server import METHOD
from bench.match_scoring import make_peer, make_request
from bench.rpc_load import LoadResult, closed_loop

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


async def run(calls: int) -> list[tuple[str, int, LoadResult]]:
    rng = random.Random(7)
    with NatsServer() as nats, ValkeyServer() as valkey:
        env = {**AUTH_ENV, "NATS_URL": nats.url, "REDIS_URL": valkey.url, "NAMESPACE": "bench", "LOG_LEVEL": "warning"}  # type: ignore[attr-defined]
        matcher = Child("alongside.matcher", env)
        port = matcher.port
        echo, echo_port = echo_process()
        try:
            async with (
                auth_channel(f"127.0.0.1:{port}") as channel,
                grpc.aio.insecure_channel(f"127.0.0.1:{echo_port}") as echo_channel,
            ):
                stub = matcher_pb2_grpc.MatcherServiceStub(channel)
                ids = await load_roster(stub, rng)
                requests = [request_out(make_request(rng, i, ids), f"bench-{i}") for i in range(200 + 2 * calls)]
                echo_call = echo_channel.unary_unary(METHOD)
                payload = requests[0].SerializeToString()

                def submit_from(offset: int) -> Callable[[int], Awaitable[object]]:
                    return lambda i: stub.SubmitMatchRequest(requests[offset + i])

                await closed_loop(submit_from(0), 200, 4)  # warm-up: caches, week bitsets
                results = []
                for round_no, clients in enumerate((1, 8)):
                    echo_result = await closed_loop(lambda i: echo_call(payload), calls, clients)
                    results.append(("bare echo RPC", clients, echo_result))
                    result = await closed_loop(submit_from(200 + round_no * calls), calls, clients)
                    results.append(("SubmitMatchRequest", clients, result))
                return results
        finally:
            matcher.close()
            echo.terminate()
            echo.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    args = parser.parse_args(argv)
    calls = 300 if args.quick else 3000
    results = asyncio.run(run(calls))
    load = os.getloadavg()[0]
    print(f"Online intake RPC, {PEERS} peers, {calls} calls per row; load average {load:.2f} on {os.cpu_count()} CPUs")
    print(f"{'rpc':<22}{'clients':>8}{'p50 ms':>9}{'p99 ms':>9}{'calls/s':>10}{'errors':>8}   goal")
    for name, clients, r in results:
        goal = ""
        if name == "SubmitMatchRequest" and clients == 8:
            met = r.pct(99) <= 10 and r.rate >= 1000
            goal = f"p99 <= 10 ms and >= 1,000/s: {'met' if met else 'NOT met'}"
        print(f"{name:<22}{clients:>8}{r.p50:>9.2f}{r.pct(99):>9.2f}{r.rate:>10.0f}{r.errors:>8}   {goal}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
