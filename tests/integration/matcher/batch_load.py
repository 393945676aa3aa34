"""A roster and waiting list on which CP-SAT keeps searching for its whole time limit, and
ways to see the solver's processes (for the tests that stop it)."""

from __future__ import annotations

import asyncio
import os
import random
import time
from pathlib import Path

from alongside.api.common.v1 import types_pb2
from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.api.matcher.v1 import matcher_pb2_grpc

from .conftest import intake, peer

TAGS = [f"t{k}" for k in range(12)]
SOLVER_STOP_S = 1.0


async def hard_batch(
    stub: matcher_pb2_grpc.MatcherServiceStub, tag: str, peers: int = 40, requests: int = 240
) -> list[str]:
    """Peers with mixed tags and tight capacity; requests of acuity 1-3 preferring some tags.

    Pair-dependent loads make it a generalised assignment (Lagrangian, then
    CP-SAT), and with varied fits and capacity well short of demand CP-SAT
    does not prove optimality for many seconds."""
    rng = random.Random(tag)
    for j in range(peers):
        p = peer(
            f"{tag}p{j}",
            capacity=rng.randint(3, 6),
            cultures=rng.sample(TAGS, 3),
            lived_experience=rng.sample(TAGS, 3),
            availability=weekdays(rng),
        )
        await stub.UpsertPeer(pb.UpsertPeerRequest(idempotency_key=f"{tag}-up{j}", peer=p))
    gate = asyncio.Semaphore(16)

    async def submit(i: int) -> str:
        prefs = pb.Preferences(
            cultures=pb.Preference(values=rng.sample(TAGS, 2), strength=pb.STRENGTH_PREFERRED),
            lived_experience=pb.Preference(values=rng.sample(TAGS, 2), strength=pb.STRENGTH_PREFERRED),
        )
        async with gate:
            reply = await stub.SubmitMatchRequest(intake(f"{tag}-r{i}", acuity=1 + i % 3, preferences=prefs))
        return reply.request.request_id

    return list(await asyncio.gather(*(submit(i) for i in range(requests))))


def weekdays(rng: random.Random) -> list[types_pb2.WeeklyWindow]:
    """Monday to Friday, from 8:00-10:30 to 13:00-18:30: the shared-availability score (against the
    requests' 9-17) differs from peer to peer, so near-equal peers are not tied and the best
    assignment is hard to prove (with every peer at 9-17 the knapsack bound closes it in a second)."""
    start = rng.choice((8, 9, 10)) * 60 + rng.choice((0, 30))
    end = rng.choice((13, 14, 15, 16, 17, 18)) * 60 + rng.choice((0, 30))
    return [types_pb2.WeeklyWindow(day=d, start_minute=start, end_minute=end) for d in range(1, 6)]


def children(pid: int) -> list[int]:
    """Direct children of ``pid`` (from /proc)."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry.name))
    return out


def descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        for child in children(todo.pop()):
            found.append(child)
            todo.append(child)
    return found


def running(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of ``pid`` so far (0 once it has gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def gone_after(pids: list[int]) -> float:
    """Seconds until every pid has stopped running (failing after 10)."""
    started = time.monotonic()
    while any(running(p) for p in pids):
        waited = time.monotonic() - started
        assert waited < 10, f"solver processes {pids} still run after {waited:.1f} s"
        await asyncio.sleep(0.01)
    return time.monotonic() - started
