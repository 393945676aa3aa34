"""WORKERS=N: one port, N worker processes, one lifetime.

Which worker holds a connection is read from /proc: the socket inodes of
each worker's descriptors against the established connections to the port.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prometheus_client.parser import text_string_to_metric_families

from alongside.kit.testing.auth import AUTH_ENV, token
from alongside.kit.testing.processes import Child, children
from alongside.kit.testing.wait import eventually

BOOK = "/alongside.scheduler.v1.SchedulerService/BookSession"
pytestmark = pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads /proc (Linux)")


@pytest.fixture
def replica(nats_url: str, redis_url: str, namespace: str) -> Iterator[Child]:
    env = {
        **AUTH_ENV,
        "NATS_URL": nats_url,
        "REDIS_URL": redis_url,
        "NAMESPACE": namespace,
        "WORKERS": "2",
        "METRICS_ADDR": "127.0.0.1:0",
    }
    child = Child("alongside.scheduler", env)
    deadline = time.monotonic() + 30
    while child.output().count("listening on") < 2 and time.monotonic() < deadline:
        time.sleep(0.02)  # the port answers once one worker listens; wait for both
    yield child
    child.close()


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def accepted_connections(port: int, pid: int) -> int:
    """Established connections to ``port`` whose server end ``pid`` holds."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                inodes.add(fields[9])
    held = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:[") and target[8:-1] in inodes:
            held += 1
    return held


async def spread(replica: Child, count: int) -> list[grpc.aio.Channel]:
    """``count`` connections, each answered SERVING, spread over both workers."""
    workers = children(replica.proc.pid)
    assert len(workers) == 2
    channels = [
        grpc.aio.insecure_channel(f"127.0.0.1:{replica.port}", options=[("grpc.use_local_subchannel_pool", 1)])
        for _ in range(count)
    ]

    async def all_serving() -> bool:
        for chan in channels:
            reply = await health_pb2_grpc.HealthStub(chan).Check(health_pb2.HealthCheckRequest(), timeout=10)
            if reply.status != health_pb2.HealthCheckResponse.SERVING:
                return False
        return True

    try:
        await eventually(all_serving, timeout=30, what="every connection answered SERVING")
        held = {pid: accepted_connections(replica.port, pid) for pid in workers}
        assert sum(held.values()) == count, held
        assert all(held_by_one > 0 for held_by_one in held.values()), f"one worker took every connection: {held}"
    except BaseException:
        for chan in channels:
            await chan.close()
        raise
    return channels


async def test_workers_share_one_port_and_each_takes_connections(replica: Child) -> None:
    for chan in await spread(replica, 16):
        await chan.close()


async def test_the_supervisor_serves_the_sum_of_its_workers_metrics(replica: Child) -> None:
    channels = await spread(replica, 16)
    metadata = (("authorization", f"Bearer {token('admin', 'metrics-test')}"),)
    try:
        for chan in channels:  # every call refused: no idempotency key
            call = chan.unary_unary(BOOK, request_serializer=bytes, response_deserializer=bytes)
            with pytest.raises(grpc.aio.AioRpcError):
                await call(b"", metadata=metadata)
    finally:
        for chan in channels:
            await chan.close()
    port = int(next(line for line in replica.output().splitlines() if "metrics on" in line).rsplit(":", 1)[1])
    async with httpx.AsyncClient() as client:
        text = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
    counted = {
        sample.labels["code"]: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "alongside_rpcs_total" and sample.labels["method"] == BOOK
    }
    assert counted == {"INVALID_ARGUMENT": 16}


async def test_sigterm_stops_every_worker_gracefully(replica: Child) -> None:
    workers = children(replica.proc.pid)
    assert await asyncio.to_thread(replica.stop) == 0
    assert not any(alive(pid) for pid in workers)
    assert replica.output().count("service.stopped") == 2


async def test_a_worker_that_dies_takes_the_replica_down(replica: Child) -> None:
    first, second = children(replica.proc.pid)
    os.kill(first, signal.SIGKILL)
    await asyncio.to_thread(replica.proc.wait, 20)
    assert replica.proc.returncode == 1
    assert not alive(second)


async def test_workers_die_with_their_supervisor(replica: Child) -> None:
    workers = children(replica.proc.pid)
    replica.proc.kill()
    replica.proc.wait()

    await eventually(lambda: not any(alive(pid) for pid in workers), what="the workers exited")
