"""gRPC deadlines cancel a real matcher's Redis calls mid-flight; its pool stays in sync.

A matcher process has intakes stored. Its Valkey is frozen (SIGSTOP), and a
burst of GetIntake and SubmitMatchRequest calls with a short deadline goes
in: each handler sends its Redis command and waits; the deadline passes and
grpc cancels the handler while its reply is still to come. Valkey resumes
and answers those cancelled commands. Then:

- every GetIntake, many at once, returns the request it asked for (a
  connection left with an unread reply would hand one caller another's
  answer: redis-py CVE-2023-28858/28859, here on the service's own pool);
- every intake that timed out, retried with its idempotency key, is stored
  exactly once (it may have committed after its caller gave up).

The kit-level proof, with the cancellation pinned to the moment each reply is
awaited, is ``tests/integration/kit/test_cancel_mid_flight.py``.
"""

from __future__ import annotations

import asyncio
import os
import signal
import uuid

import grpc

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.api.matcher.v1 import matcher_pb2_grpc
from alongside.kit.redis import Keys, client
from alongside.kit.testing.auth import AUTH_ENV, channel
from alongside.kit.testing.processes import Child
from alongside.kit.testing.servers import ValkeyServer
from alongside.matcher.adapters.store import MatcherKeys

from .conftest import intake

STORED, READS, WRITES, DEADLINE_S = 20, 24, 8, 0.3


async def test_calls_cancelled_by_their_deadline_leave_the_services_redis_connections_in_sync(
    nats_url: str, own_valkey: ValkeyServer, namespace: str
) -> None:
    run = uuid.uuid4().hex[:8]
    env = {**AUTH_ENV, "NATS_URL": nats_url, "REDIS_URL": own_valkey.url, "NAMESPACE": namespace}
    service = await asyncio.to_thread(Child, "alongside.matcher", env)
    try:
        async with channel(f"127.0.0.1:{service.port}", role="admin") as chan:
            stub = matcher_pb2_grpc.MatcherServiceStub(chan)
            keys = [f"cs-{run}-{i}" for i in range(STORED)]
            ids = {k: (await stub.SubmitMatchRequest(intake(k), timeout=10)).request.request_id for k in keys}

            async def read(key: str, timeout: float = 10) -> tuple[str, str]:
                got = await stub.GetIntake(pb.GetIntakeRequest(request_id=ids[key]), timeout=timeout)
                return got.request.request_id, key

            await asyncio.gather(*(read(k) for k in keys))  # the pool's connections are open
            late = [f"cs-{run}-late-{i}" for i in range(WRITES)]
            assert own_valkey.proc is not None
            os.kill(own_valkey.proc.pid, signal.SIGSTOP)
            try:
                burst = [read(keys[i % STORED], DEADLINE_S) for i in range(READS)]
                burst += [stub.SubmitMatchRequest(intake(k), timeout=DEADLINE_S) for k in late]
                outcomes = await asyncio.gather(*burst, return_exceptions=True)
            finally:
                os.kill(own_valkey.proc.pid, signal.SIGCONT)
            codes = {o.code() if isinstance(o, grpc.aio.AioRpcError) else o for o in outcomes}
            assert codes == {grpc.StatusCode.DEADLINE_EXCEEDED}, codes  # every one cut off mid-flight

            for _ in range(3):
                order = keys[::-1] + keys
                replies = await asyncio.gather(*(read(k) for k in order))
                assert replies == [(ids[k], k) for k in order]  # each call got its own answer

            retried = {k: (await stub.SubmitMatchRequest(intake(k), timeout=10)).request.request_id for k in late}
    finally:
        await asyncio.to_thread(service.close)
    r = client(own_valkey.url)
    try:
        matcher = MatcherKeys(Keys(namespace, "matcher"))
        for key, request_id in retried.items():
            assert await r.smembers(matcher.by_ref(f"ref-{key}")) == {request_id.encode()}  # once
    finally:
        await r.aclose()
