"""The console's server time for the shortlist page and the roster page over a
2,000-peer roster, beside the raw gRPC calls each page makes, in the same run.

The matcher and the console run as child processes against throwaway NATS
and Valkey; this process is the browser (httpx, one keep-alive connection)
and, for the baseline, a gRPC client making the page's own calls: the
shortlist page is GetIntake then GetPeer for each candidate at once (their
names), the roster page ListPeers (100 a page). Page and raw calls
alternate, so both see the same machine. The page's server time is what the
console's access log records (ASGI call to last byte sent); "as the browser
waits" adds HTTP on localhost. Goal (issue 15): the page adds at most 5 ms at
p95 on top of its RPCs.

Run: ``python -m bench.console_pages`` (or ``--quick``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import sys
import time
from collections.abc import Awaitable
from dataclasses import dataclass

import grpc
import httpx

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.api.matcher.v1 import matcher_pb2_grpc
from alongside.kit.testing.auth import AUTH_ENV, token
from alongside.kit.testing.auth import channel as auth_channel
from alongside.kit.testing.processes import Child
from alongside.kit.testing.servers import NatsServer, ValkeyServer
from alongside.matcher.mappers import request_out
from bench.match_rpc import PEERS, load_roster
from bench.match_scoring import make_request

GOAL_MS = 5.0
PAGE = 100  # the roster page's size, as the console asks
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class Timings:
    name: str
    ms: list[float]

    def pct(self, q: float) -> float:
        ordered = sorted(self.ms)
        return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))] if ordered else float("nan")


async def timed(call: Awaitable[object]) -> float:
    start = time.perf_counter()
    await call
    return (time.perf_counter() - start) * 1000


def server_ms(log: str, prefix: str) -> list[float]:
    """The console's access-log time of each request whose path starts with ``prefix``, in order."""
    out = []
    for line in log.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("event") == "request" and str(entry.get("path", "")).startswith(prefix):
            out.append(float(entry["ms"]))
    return out


async def sign_in(http: httpx.AsyncClient) -> None:
    csrf = CSRF.findall((await http.get("/sign-in")).text)[0]
    reply = await http.post("/sign-in/dev", data={"role": "manager", "subject": "bench-manager", "csrf_token": csrf})
    assert reply.status_code < 400, reply.status_code


async def shortlisted(stub: matcher_pb2_grpc.MatcherServiceStub, rng: random.Random, ids: list[str]) -> list[str]:
    """Request ids whose shortlist has candidates (the page the goal is about)."""
    found: list[str] = []
    i = 0
    while len(found) < 40:
        reply = await stub.SubmitMatchRequest(request_out(make_request(rng, i, ids), f"bench-{i}"))
        if reply.request.candidates:
            found.append(reply.request.request_id)
        i += 1
    return found


async def measure(env: dict[str, str], matcher_port: int, requests: list[str], calls: int, warm: int) -> list[Timings]:
    console = Child(
        "alongside.console",
        {
            **env,
            "CONSOLE_ADDR": "127.0.0.1:0",
            "MATCHER_ADDR": f"127.0.0.1:{matcher_port}",
            "SCHEDULER_ADDR": "127.0.0.1:9",  # not called by these pages
            "NOTIFIER_ADDR": "127.0.0.1:9",
            "DEV_SIGN_IN": "true",
            "LOG_LEVEL": "info",
        },
    )
    metadata = (("authorization", f"Bearer {token('manager', 'bench-manager')}"),)
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{matcher_port}")
    stub = matcher_pb2_grpc.MatcherServiceStub(channel)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{console.port}", timeout=30) as http:
            await sign_in(http)
            states = {
                r: (await stub.GetIntake(pb.GetIntakeRequest(request_id=r), metadata=metadata)).request
                for r in requests
            }
            tokens = [""]
            while len(tokens) < PEERS // PAGE:
                listed = pb.ListPeersRequest(page_size=PAGE, page_token=tokens[-1])
                tokens.append((await stub.ListPeers(listed, metadata=metadata)).next_page_token)

            async def shortlist_raw(request_id: str) -> None:
                await stub.GetIntake(pb.GetIntakeRequest(request_id=request_id), metadata=metadata)
                ids = [c.peer_id for c in states[request_id].candidates]
                await asyncio.gather(*(stub.GetPeer(pb.GetPeerRequest(peer_id=p), metadata=metadata) for p in ids))

            async def roster_raw(after: str) -> None:
                await stub.ListPeers(pb.ListPeersRequest(page_size=PAGE, page_token=after), metadata=metadata)

            async def page(path: str) -> None:
                reply = await http.get(path)
                assert reply.status_code == 200, (path, reply.status_code)

            out: dict[str, list[float]] = {k: [] for k in ("sl-page", "sl-raw", "ro-page", "ro-raw")}
            for i in range(warm + calls):
                request_id, after = requests[i % len(requests)], tokens[i % len(tokens)]
                roster_path = "/roster" + (f"?after={after}" if after else "")
                sample = {
                    "sl-page": await timed(page(f"/intake/requests/{request_id}")),
                    "sl-raw": await timed(shortlist_raw(request_id)),
                    "ro-page": await timed(page(roster_path)),
                    "ro-raw": await timed(roster_raw(after)),
                }
                if i >= warm:
                    for k, v in sample.items():
                        out[k].append(v)
        log = console.output()
    finally:
        await channel.close()
        console.close()
    shortlist_server = server_ms(log, "/intake/requests/")[warm:]
    roster_server = server_ms(log, "/roster")[warm:]
    return [
        Timings("shortlist page, server time", shortlist_server),
        Timings("shortlist page, as the browser waits", out["sl-page"]),
        Timings("its RPCs raw (GetIntake + GetPeer each)", out["sl-raw"]),
        Timings("roster page, server time", roster_server),
        Timings("roster page, as the browser waits", out["ro-page"]),
        Timings("its RPC raw (ListPeers, 100)", out["ro-raw"]),
    ]


async def run(calls: int, warm: int) -> list[Timings]:
    rng = random.Random(7)
    with NatsServer() as nats, ValkeyServer() as valkey:
        env = {**AUTH_ENV, "NATS_URL": nats.url, "REDIS_URL": valkey.url, "NAMESPACE": "bench", "LOG_LEVEL": "warning"}  # type: ignore[attr-defined]
        matcher = Child("alongside.matcher", env)
        try:
            async with auth_channel(f"127.0.0.1:{matcher.port}") as channel:
                stub = matcher_pb2_grpc.MatcherServiceStub(channel)
                ids = await load_roster(stub, rng)
                requests = await shortlisted(stub, rng, ids)
            return await measure({**AUTH_ENV}, matcher.port, requests, calls, warm)
        finally:
            matcher.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    args = parser.parse_args(argv)
    calls, warm = (100, 20) if args.quick else (1000, 100)
    rows = asyncio.run(run(calls, warm))
    load = os.getloadavg()
    print(
        f"Console pages over {PEERS} peers, {calls} calls each (one client, page and raw calls alternating);"
        f" load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} on {os.cpu_count()} CPUs"
    )
    print(f"{'what':<42}{'p50 ms':>9}{'p95 ms':>9}   goal")
    for i, row in enumerate(rows):
        goal = ""
        if i % 3 == 2:
            server, raw = rows[i - 2], row
            added = server.pct(95) - raw.pct(95)
            goal = (
                f"page adds {server.pct(50) - raw.pct(50):.2f} ms at p50, {added:.2f} ms at p95"
                f" (<= {GOAL_MS:.0f} ms: {'met' if added <= GOAL_MS else 'NOT met'})"
            )
        print(f"{row.name:<42}{row.pct(50):>9.2f}{row.pct(95):>9.2f}   {goal}")
    print("server time = the console's access log (0.1 ms steps); the raw RPCs are made from the bench process")
    return 0


if __name__ == "__main__":
    sys.exit(main())
