"""A hung NATS or a hung Valkey (SIGSTOP): every RPC of every service answers by its deadline.

A stopped process keeps its sockets open, so nothing fails fast: a call
that waits on it waits until something gives up. For each service, as a
real process, with its NATS and then its Valkey frozen, representative
calls go in (a read, a write with an idempotency key, the health check):

- with a client deadline, each ends by that deadline plus a little;
- with none (a script that sets no deadline), each ends by the service's
  own (``DEFAULT_DEADLINE_SECONDS``) plus a little;
- the health check always answers, quickly (a probe has a second or so).

Each ends OK (a NATS outage stops no read or write: the outbox holds the
events) or with UNAVAILABLE or DEADLINE_EXCEEDED; none hangs. After the
dependency resumes, the service answers again.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from signal import SIGCONT, SIGSTOP
from typing import Any

import grpc
import nats
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from alongside.api.common.v1 import types_pb2
from alongside.api.matcher.v1 import events_pb2 as matcher_ev
from alongside.api.matcher.v1 import matcher_pb2, matcher_pb2_grpc
from alongside.api.notifier.v1 import notifier_pb2, notifier_pb2_grpc
from alongside.api.scheduler.v1 import scheduler_pb2, scheduler_pb2_grpc
from alongside.kit.events.envelope import Event
from alongside.kit.redis import Keys, client
from alongside.kit.testing.auth import AUTH_ENV, channel
from alongside.kit.testing.processes import Child
from alongside.kit.testing.servers import NatsServer, ValkeyServer
from alongside.kit.testing.wait import eventually

# Every RPC answers by its deadline: make test runs these alone (serial), where the clock is the service's own.
pytestmark = pytest.mark.serial

SERVICE_DEADLINE_S = 1.5  # the services' DEFAULT_DEADLINE_SECONDS here
CLIENT_DEADLINE_S = 1.0
SLACK_S = 0.75  # scheduling, the status's trip back, a loaded machine
HEALTH_S = 1.0
ENDED = {grpc.StatusCode.OK, grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED}

WEEK = [types_pb2.WeeklyWindow(day=d, start_minute=0, end_minute=24 * 60) for d in range(1, 8)]
Call = Callable[[grpc.aio.Channel, str, float | None], Awaitable[Any]]


def matcher_calls(run: str) -> dict[str, Call]:
    def read(chan: grpc.aio.Channel, key: str, timeout: float | None) -> Awaitable[Any]:
        stub = matcher_pb2_grpc.MatcherServiceStub(chan)
        return stub.ListWaitlist(matcher_pb2.ListWaitlistRequest(), timeout=timeout)

    def write(chan: grpc.aio.Channel, key: str, timeout: float | None) -> Awaitable[Any]:
        stub = matcher_pb2_grpc.MatcherServiceStub(chan)
        participant = matcher_pb2.Participant(
            participant_ref=f"ref-{key}", age_band=matcher_pb2.AGE_BAND_ADULT, time_zone="UTC", availability=WEEK
        )
        request = matcher_pb2.SubmitMatchRequestRequest(
            idempotency_key=key,
            participant=participant,
            peer_types=[matcher_pb2.PEER_TYPE_RECOVERY_COACH],
            urgency=matcher_pb2.URGENCY_ROUTINE,
            acuity=1,
        )
        return stub.SubmitMatchRequest(request, timeout=timeout)

    return {"read": read, "write": write}


def scheduler_calls(run: str) -> dict[str, Call]:
    def read(chan: grpc.aio.Channel, key: str, timeout: float | None) -> Awaitable[Any]:
        stub = scheduler_pb2_grpc.SchedulerServiceStub(chan)
        return stub.ListSessions(scheduler_pb2.ListSessionsRequest(peer_id=f"p-{run}"), timeout=timeout)

    def write(chan: grpc.aio.Channel, key: str, timeout: float | None) -> Awaitable[Any]:
        stub = scheduler_pb2_grpc.SchedulerServiceStub(chan)
        request = scheduler_pb2.BookSessionRequest(idempotency_key=key, peer_id=f"p-{run}", participant_ref=f"r-{key}")
        return stub.BookSession(request, timeout=timeout)

    return {"read": read, "write": write}


def notifier_calls(run: str) -> dict[str, Call]:
    def read(chan: grpc.aio.Channel, key: str, timeout: float | None) -> Awaitable[Any]:
        stub = notifier_pb2_grpc.NotifierServiceStub(chan)
        return stub.ListNotifications(notifier_pb2.ListNotificationsRequest(peer_id=f"p-{run}"), timeout=timeout)

    def write(chan: grpc.aio.Channel, key: str, timeout: float | None) -> Awaitable[Any]:
        stub = notifier_pb2_grpc.NotifierServiceStub(chan)
        prefs = notifier_pb2.ContactPreferences(peer_id=f"p-{run}", language="en", time_zone="UTC")
        request = notifier_pb2.SetContactPreferencesRequest(idempotency_key=key, preferences=prefs)
        return stub.SetContactPreferences(request, timeout=timeout)

    return {"read": read, "write": write}


@dataclass(frozen=True)
class Ended:
    what: str
    code: grpc.StatusCode
    seconds: float


async def timed(what: str, call: Awaitable[Any]) -> Ended:
    began = time.monotonic()
    try:
        await call
        code = grpc.StatusCode.OK
    except grpc.aio.AioRpcError as exc:
        code = exc.code()
    return Ended(what, code, time.monotonic() - began)


async def health(chan: grpc.aio.Channel, timeout: float | None) -> Any:
    return await health_pb2_grpc.HealthStub(chan).Check(health_pb2.HealthCheckRequest(), timeout=timeout)


async def known_peer(nats_url: str, redis_url: str, namespace: str, peer_id: str) -> None:
    """Tell the scheduler about a peer, as the matcher would, and wait until it has the calendar."""
    nc = await nats.connect(nats_url)
    r = client(redis_url)
    try:
        body = matcher_ev.PeerUpserted(
            peer_id=peer_id, status=matcher_pb2.PEER_STATUS_ACTIVE, time_zone="UTC", availability=WEEK, version=1
        )
        event = Event.of("peer.upserted", "/alongside/matcher", body, subject=peer_id)
        await nc.jetstream().publish(event.nats_subject(namespace), event.body, headers=event.headers())
        calendar = Keys(namespace, "scheduler").key(f"peer:{peer_id}", "cal")

        async def known() -> bool:
            return await r.hget(calendar, "av") is not None

        await eventually(known, timeout=15, what="the peer's calendar")
    finally:
        await nc.close()
        await r.aclose()


SERVICES = {
    "matcher": matcher_calls,
    "scheduler": scheduler_calls,
    "notifier": notifier_calls,
}


def service_env(own_nats: NatsServer, own_valkey: ValkeyServer, namespace: str) -> dict[str, str]:
    return {
        **AUTH_ENV,
        "NATS_URL": own_nats.url,
        "REDIS_URL": own_valkey.url,
        "NAMESPACE": namespace,
        "DEFAULT_DEADLINE_SECONDS": str(SERVICE_DEADLINE_S),
    }


@pytest.mark.parametrize("fault", ["nats", "valkey"])
@pytest.mark.parametrize("service", list(SERVICES))
async def test_every_rpc_answers_by_its_deadline_while_a_dependency_hangs(
    own_nats: NatsServer, own_valkey: ValkeyServer, namespace: str, service: str, fault: str
) -> None:
    run = uuid.uuid4().hex[:8]
    env = service_env(own_nats, own_valkey, namespace)
    child = await asyncio.to_thread(Child, f"alongside.{service}", env)
    calls = SERVICES[service](run)
    hung = own_nats if fault == "nats" else own_valkey
    assert hung.proc is not None
    try:
        if service == "scheduler":  # a peer it can book
            await known_peer(own_nats.url, own_valkey.url, namespace, f"p-{run}")
        async with channel(f"127.0.0.1:{child.port}", role="admin") as chan:
            # Warm: connections open, caches filled, every call answered once.
            for name, call in calls.items():
                await timed(name, call(chan, f"{run}-warm-{name}", 10))
            os.kill(hung.proc.pid, SIGSTOP)
            try:
                ended = await asyncio.gather(
                    *(
                        timed(f"{n} (client deadline)", c(chan, f"{run}-c-{n}", CLIENT_DEADLINE_S))
                        for n, c in calls.items()
                    ),
                    *(timed(f"{n} (no deadline)", c(chan, f"{run}-n-{n}", None)) for n, c in calls.items()),
                    timed("health", health(chan, None)),
                    timed("health again", health(chan, None)),
                )
            finally:
                os.kill(hung.proc.pid, SIGCONT)
            for end in ended:
                limit = HEALTH_S if end.what.startswith("health") else SERVICE_DEADLINE_S + SLACK_S
                if "client deadline" in end.what:
                    limit = CLIENT_DEADLINE_S + SLACK_S
                assert end.code in ENDED, end
                assert end.seconds <= limit, end
            for name, call in calls.items():  # and it recovers
                assert (
                    await timed(name, call(chan, f"{run}-after-{name}", 10))
                ).code != grpc.StatusCode.DEADLINE_EXCEEDED
    finally:
        await asyncio.to_thread(child.close)


async def watch_refused(chan: grpc.aio.Channel, peer_id: str, timeout: float | None) -> Ended:
    """Open a watch and wait for its status: a refusal ends the call, a watch in place waits for items."""
    stub = notifier_pb2_grpc.NotifierServiceStub(chan)
    began = time.monotonic()
    call = stub.WatchNotifications(notifier_pb2.WatchNotificationsRequest(peer_id=peer_id), timeout=timeout)
    try:
        code = await call.code()
    finally:
        call.cancel()
    return Ended("watch (no deadline)", code, time.monotonic() - began)


async def test_a_watch_is_refused_by_the_services_deadline_while_valkey_hangs(
    own_nats: NatsServer, own_valkey: ValkeyServer, namespace: str
) -> None:
    """A watch has no deadline of its own (it stays open for hours), so its opening must be bounded:
    the audit record of the opening and the read of where to start, each against a hung Valkey."""
    run = uuid.uuid4().hex[:8]
    env = service_env(own_nats, own_valkey, namespace)
    child = await asyncio.to_thread(Child, "alongside.notifier", env)
    assert own_valkey.proc is not None
    try:
        async with channel(f"127.0.0.1:{child.port}", role="admin") as chan:
            warm = await timed("warm", notifier_calls(run)["read"](chan, run, 10))
            assert warm.code == grpc.StatusCode.OK, warm
            os.kill(own_valkey.proc.pid, SIGSTOP)
            try:
                ended = await asyncio.wait_for(watch_refused(chan, f"p-{run}", None), timeout=15)
            finally:
                os.kill(own_valkey.proc.pid, SIGCONT)
            assert ended.code in {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED}, ended
            assert ended.seconds <= SERVICE_DEADLINE_S + SLACK_S, ended
    finally:
        await asyncio.to_thread(child.close)
