"""Two matcher replicas on Valkey with Sentinels: kill -9 of the primary while
intakes arrive. Sentinel promotes the replica, the services follow by
themselves, and every intake that was answered OK is there afterwards,
exactly once (clients retry UNAVAILABLE with the same idempotency key).

Real processes throughout: the Valkey servers, the Sentinels and the two
matcher replicas (``REDIS_MIN_REPLICAS=1``: OK means on the replica too).
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import grpc
import pytest

from alongside.api.common.v1 import types_pb2
from alongside.api.matcher.v1 import matcher_pb2 as mpb
from alongside.api.matcher.v1 import matcher_pb2_grpc
from alongside.kit.testing import auth
from alongside.kit.testing.cluster import ValkeyHA
from alongside.kit.testing.processes import Child
from alongside.kit.testing.wait import eventually

RETRIED = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.ABORTED)


def _intake(ref: str, key: str) -> mpb.SubmitMatchRequestRequest:
    return mpb.SubmitMatchRequestRequest(
        idempotency_key=key,
        participant=mpb.Participant(
            participant_ref=ref,
            age_band=mpb.AGE_BAND_ADULT,
            time_zone="UTC",
            availability=[types_pb2.WeeklyWindow(day=d, start_minute=0, end_minute=1440) for d in range(1, 8)],
        ),
        peer_types=[mpb.PEER_TYPE_RECOVERY_COACH],
        urgency=mpb.URGENCY_ROUTINE,
        acuity=1,
        session_minutes=30,
    )


@pytest.mark.serial  # a Sentinel failover: its election runs on timers
async def test_intakes_survive_a_valkey_failover(valkey_ha: ValkeyHA, nats_url: str, namespace: str) -> None:
    env = {
        "SERVICE_NAME": "matcher",
        "NAMESPACE": namespace,
        "NATS_URL": nats_url,
        "REDIS_URL": valkey_ha.url,
        "REDIS_MIN_REPLICAS": "1",
        "PROVISION_FUNCTIONS": "false",
        "OUTBOX_RELAY": "inline",
    }
    replicas = [Child("alongside.matcher", env) for _ in range(2)]
    try:
        await _run(replicas, valkey_ha)
    finally:
        for child in replicas:
            child.close()


async def _run(replicas: list[Child], valkey_ha: ValkeyHA) -> None:
    channels = [auth.channel(f"127.0.0.1:{child.port}", role="intake", subject="staff-1") for child in replicas]
    stubs = [matcher_pb2_grpc.MatcherServiceStub(channel) for channel in channels]
    answered: dict[str, str] = {}  # participant_ref -> request_id, for every intake answered OK
    retries: Counter[str] = Counter()
    stop = asyncio.Event()

    async def client(n: int) -> None:
        i = 0
        while not stop.is_set():
            ref, key = f"ref-{n}-{i}-{uuid.uuid4().hex[:6]}", uuid.uuid4().hex
            while True:  # the same idempotency key until an answer, from either replica
                stub = stubs[(n + retries[ref]) % len(stubs)]
                try:
                    reply = await stub.SubmitMatchRequest(_intake(ref, key), timeout=5)
                    answered[ref] = reply.request.request_id
                    break
                except grpc.aio.AioRpcError as exc:
                    # (it finishes the intake it started, even after stop: so every
                    # request the matcher holds is one that was answered)
                    assert exc.code() in RETRIED, exc.details()
                    retries[ref] += 1
                    await asyncio.sleep(0.1)
            i += 1

    clients = [asyncio.create_task(client(n)) for n in range(4)]
    try:
        await eventually(lambda: len(answered) >= 20 or any(c.done() for c in clients), timeout=30, what="intakes")
        for done in [c for c in clients if c.done()]:
            done.result()  # a client that failed says why
        old = valkey_ha.primary
        old.kill()
        before = len(answered)
        await eventually(lambda: _promoted(valkey_ha, old), timeout=30, what="Sentinel promoted the replica")
        valkey_ha.restart(old)  # as its supervisor would: a replica of the new primary
        await eventually(lambda: len(answered) >= before + 20, timeout=30, what="intakes after the failover")
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*clients, return_exceptions=True), 30)
    try:
        assert sum(retries.values()) > 0, "the fault was never felt"
        staff = matcher_pb2_grpc.MatcherServiceStub(channels[0])
        for request_id in answered.values():
            got = await staff.GetIntake(mpb.GetIntakeRequest(request_id=request_id), timeout=5)
            assert got.request.request_id == request_id
        held: list[str] = []  # nobody fits (no roster): every intake waits
        token = ""
        while True:
            page = await staff.ListWaitlist(mpb.ListWaitlistRequest(page_size=100, page_token=token), timeout=5)
            held += [r.request_id for r in page.requests]
            token = page.next_page_token
            if not token:
                break
        assert len(set(answered.values())) == len(answered), "two intakes answered with one request"
        assert sorted(held) == sorted(answered.values()), "a request lost, or one made twice by a retry"
    finally:
        for channel in channels:
            await channel.close()


def _promoted(ha: ValkeyHA, old: object) -> bool:
    try:
        return ha.current_primary() is not old
    except LookupError:
        return False
