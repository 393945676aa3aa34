"""SIGTERM to a matcher process with intakes in flight.

A burst of SubmitMatchRequest calls (16 at a time, each with its own
idempotency key and participant) runs against a matcher process; once some
have been answered it gets SIGTERM, and the burst carries on. The service
stops taking calls, lets the ones it holds finish (GRACE_SECONDS), relays
their events and exits. Then the stores are reconciled, not the client's
counts:

- every intake answered OK is stored exactly once (one request under its
  participant, the id the client was given), and its match.requested event
  is on the stream exactly once;
- every call that was refused left nothing: no request, no event;
- nothing half-done: no request without its event, no event without its
  request.
"""

from __future__ import annotations

import asyncio
import json
import signal
import uuid
from collections import Counter

import grpc
import nats

from alongside.api.matcher.v1 import matcher_pb2_grpc
from alongside.kit.events.envelope import Event
from alongside.kit.events.streams import CATALOGUE, provision, stream_name
from alongside.kit.redis import Keys, client
from alongside.kit.testing.auth import AUTH_ENV, channel
from alongside.kit.testing.processes import Child
from alongside.kit.testing.wait import eventually
from alongside.matcher.adapters.store import MatcherKeys

from .conftest import intake

CALLS, AT_ONCE, SIGTERM_AFTER = 300, 16, 40
MATCH_STREAMS = [s for s in CATALOGUE if s.aggregate in ("request", "match")]


async def test_sigterm_mid_burst_answers_or_refuses_each_call_and_leaves_nothing_half_done(
    nats_url: str, redis_url: str, namespace: str
) -> None:
    env = {**AUTH_ENV, "NATS_URL": nats_url, "REDIS_URL": redis_url, "NAMESPACE": namespace}
    run = uuid.uuid4().hex[:8]
    keys = [f"st-{run}-{i}" for i in range(CALLS)]
    outcomes: dict[str, str | grpc.StatusCode] = {}  # key -> request id, or the error's code
    service = await asyncio.to_thread(Child, "alongside.matcher", env)
    try:
        gate = asyncio.Semaphore(AT_ONCE)
        answered = asyncio.Event()

        async def call(stub: matcher_pb2_grpc.MatcherServiceStub, key: str) -> None:
            async with gate:
                try:
                    reply = await stub.SubmitMatchRequest(intake(key), timeout=15)
                    outcomes[key] = reply.request.request_id
                except grpc.aio.AioRpcError as exc:
                    outcomes[key] = exc.code()
                if sum(isinstance(o, str) for o in outcomes.values()) >= SIGTERM_AFTER:
                    answered.set()

        async with channel(f"127.0.0.1:{service.port}", role="admin") as chan:
            stub = matcher_pb2_grpc.MatcherServiceStub(chan)
            burst = asyncio.gather(*(call(stub, key) for key in keys))
            await asyncio.wait_for(answered.wait(), 20)
            service.proc.send_signal(signal.SIGTERM)  # calls are in flight now
            await burst
        assert await asyncio.to_thread(service.proc.wait, 20) == 0
        handled = Counter(
            line["code"]
            for line in map(json.loads, filter(lambda text: text.startswith("{"), service.output().splitlines()))
            if line.get("event") == "rpc" and line.get("method", "").endswith("SubmitMatchRequest")
        )
    finally:
        await asyncio.to_thread(service.close)

    ok = {k: o for k, o in outcomes.items() if isinstance(o, str)}
    refused = {k: o for k, o in outcomes.items() if not isinstance(o, str)}
    assert len(ok) >= SIGTERM_AFTER and refused, (len(ok), len(refused))  # the stop came mid-burst
    # Refused before any handler ran (UNAVAILABLE: the server had stopped taking
    # calls; CANCELLED: received while it shut down, never handed to the service):
    assert set(refused.values()) <= {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED}, set(refused.values())
    assert handled == Counter({"OK": len(ok)})  # every handler that started finished, and was answered

    r = client(redis_url)
    nc = await nats.connect(nats_url)
    try:
        matcher = MatcherKeys(Keys(namespace, "matcher"))
        stored = {key: await r.smembers(matcher.by_ref(f"ref-{key}")) for key in keys}
        for key, request_id in ok.items():
            assert stored[key] == {request_id.encode()}, key  # answered OK: there, once
        for key in refused:
            assert stored[key] == set(), key  # refused: absent

        # Every stored request's event went out, once: the relay's last pass, or a sweep later.
        outbox = Keys(namespace, "matcher").pattern("outbox")

        async def relayed() -> bool:
            return not [k async for k in r.scan_iter(match=outbox)]

        js = nc.jetstream()
        await provision(js, namespace)
        if not await relayed():  # the stopping relay could not finish: a new process sweeps
            again = await asyncio.to_thread(Child, "alongside.matcher", env)
            try:
                await eventually(relayed, timeout=20, what="the outbox relayed")
            finally:
                await asyncio.to_thread(again.close)
        requested: list[str] = []
        for spec in MATCH_STREAMS:
            name = stream_name(namespace, spec)
            info = await js.stream_info(name)
            for seq in range(info.state.first_seq, info.state.last_seq + 1):
                if info.state.messages == 0:
                    break
                raw = await js.get_msg(name, seq)
                event = Event.from_headers(dict(raw.headers or {}), raw.data or b"")
                if event.type == "match.requested":
                    requested.append(event.subject)
        assert sorted(requested) == sorted(ok.values())
    finally:
        await nc.close()
        await r.aclose()
