"""The script ran, its reply was lost, the batch was re-sent: still exactly once.

A real matcher process talks to Valkey through a TCP proxy (``ReplyCutter``)
that lets SubmitMatchRequest's guarded function call through, lets Valkey run
it (commit the request, its events and its audit record), then drops the
reply and cuts the connection. The client side never learns whether it ran.

- Once: the group commit's writer sees a dead connection, reconnects and
  sends the same batch again (``PipelinedFunction``). The function finds its
  own idempotency record and answers as a replay; the call answers OK with
  the request as first committed.
- Twice: the re-send's reply is lost too, so the call answers UNAVAILABLE;
  the caller retries with the same idempotency key and gets the request
  committed by the first attempt.

Either way the stores hold it exactly once: one request under the
participant, one ``match.requested`` on the stream, and (for the one call
that committed) one audit record, relayed without waiting for a sweep.
"""

from __future__ import annotations

import asyncio
import uuid

import grpc
import nats
import pytest
from nats.js import JetStreamContext

from alongside.api.audit.v1 import audit_pb2
from alongside.api.matcher.v1 import matcher_pb2_grpc
from alongside.kit.events.envelope import Event
from alongside.kit.events.streams import CATALOGUE, provision, stream_name
from alongside.kit.redis import Keys, client
from alongside.kit.testing.auth import AUTH_ENV, channel
from alongside.kit.testing.processes import Child
from alongside.kit.testing.proxy import ReplyCutter
from alongside.kit.testing.wait import eventually
from alongside.kit.uow import GUARDED
from alongside.matcher.adapters.store import MatcherKeys

from .conftest import intake

SUBMIT = "/alongside.matcher.v1.MatcherService/SubmitMatchRequest"
# Well inside the relay's sweep (10 s): the events must go on the commit's own hint.
PROMPTLY_S = 5.0


async def messages(js: JetStreamContext, namespace: str, aggregate: str) -> list[Event]:
    spec = next(s for s in CATALOGUE if s.aggregate == aggregate)
    name = stream_name(namespace, spec)
    info = await js.stream_info(name)
    found = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        if info.state.messages == 0:
            break
        raw = await js.get_msg(name, seq)
        found.append(Event.from_headers(dict(raw.headers or {}), raw.data or b""))
    return found


async def requested(js: JetStreamContext, namespace: str) -> list[str]:
    return [e.subject for e in await messages(js, namespace, "match") if e.type == "match.requested"]


async def audited(js: JetStreamContext, namespace: str, request_id: str) -> list[audit_pb2.AuditRecord]:
    found = []
    for event in await messages(js, namespace, "audit"):
        for signed in event.parse(audit_pb2.AuditBatch).signed_records:
            record = audit_pb2.AuditRecord.FromString(signed.record)
            if record.action == SUBMIT and record.object_id == request_id:
                found.append(record)
    return found


@pytest.mark.parametrize("lost", [1, 2], ids=["resent-by-the-writer", "retried-by-the-caller"])
async def test_a_lost_reply_still_commits_exactly_once(
    nats_url: str, redis_url: str, namespace: str, lost: int
) -> None:
    key = f"rl-{uuid.uuid4().hex[:8]}"
    r = client(redis_url)
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await provision(js, namespace)
    async with ReplyCutter(redis_url) as proxy:
        env = {**AUTH_ENV, "NATS_URL": nats_url, "REDIS_URL": proxy.url, "NAMESPACE": namespace}
        service = await asyncio.to_thread(Child, "alongside.matcher", env)
        try:
            async with channel(f"127.0.0.1:{service.port}", role="intake", subject="staff-1") as chan:
                stub = matcher_pb2_grpc.MatcherServiceStub(chan)
                proxy.arm(GUARDED.name.encode(), times=lost)
                if lost == 1:
                    reply = await stub.SubmitMatchRequest(intake(key), timeout=10)
                else:
                    with pytest.raises(grpc.aio.AioRpcError) as refused:
                        await stub.SubmitMatchRequest(intake(key), timeout=10)
                    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
                    reply = await stub.SubmitMatchRequest(intake(key), timeout=10)  # same idempotency key
                assert proxy.cut == lost  # Valkey ran the function and its answer never came back
                request_id = reply.request.request_id

                stored = await r.smembers(MatcherKeys(Keys(namespace, "matcher")).by_ref(f"ref-{key}"))
                assert stored == {request_id.encode()}  # the request the caller was given, stored once

                async def event_out() -> bool:
                    return bool(await requested(js, namespace))

                await eventually(event_out, timeout=PROMPTLY_S, what="match.requested relayed")
                if lost == 1:  # one call, one commit: one record (the retried case has the caller's two calls)

                    async def record_out() -> bool:
                        return bool(await audited(js, namespace, request_id))

                    await eventually(record_out, timeout=PROMPTLY_S, what="the call's audit record relayed")
        finally:
            await asyncio.to_thread(service.close)  # drains: whatever it owed is relayed
    try:
        assert await requested(js, namespace) == [request_id]  # one event, for that request
        if lost == 1:
            trail = await audited(js, namespace, request_id)
            assert [record.outcome for record in trail] == ["OK"]
    finally:
        await nc.close()
        await r.aclose()
