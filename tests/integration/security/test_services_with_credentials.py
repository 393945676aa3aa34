"""The three services run with their own least-privilege NATS and Valkey
users (deploy/), and events still flow: the matcher's reach the scheduler
and the notifier, and the scheduler's reach the notifier."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
import structlog
from google.protobuf.timestamp_pb2 import Timestamp

from alongside.api.common.v1 import types_pb2
from alongside.api.matcher.v1 import events_pb2 as matcher_ev
from alongside.api.matcher.v1 import matcher_pb2
from alongside.kit.events.envelope import Event
from alongside.kit.events.streams import provision
from alongside.kit.runtime import Runtime
from alongside.kit.testing.auth import TEST_AUTH
from alongside.kit.testing.secure_servers import DATABASES, SecureNatsServer, SecureValkeyServer
from alongside.kit.testing.wait import eventually
from alongside.kit.uow import Tx
from alongside.matcher.bootstrap import build as build_matcher
from alongside.matcher.settings import MatcherSettings
from alongside.notifier.bootstrap import build as build_notifier
from alongside.notifier.settings import NotifierSettings
from alongside.scheduler.bootstrap import build as build_scheduler
from alongside.scheduler.settings import SchedulerSettings
from tests.integration.security.conftest import NAMESPACE, NatsLogin, NatsUser, RedisLogin
from tests.integration.security.test_grpc_tls import OK, check

WEEKDAYS_9_17 = [types_pb2.WeeklyWindow(day=d, start_minute=9 * 60, end_minute=17 * 60) for d in range(1, 6)]
DURABLES = [
    ("ALONGSIDE_PEER", "scheduler-peer"),
    ("ALONGSIDE_MATCH", "scheduler-match"),
    ("ALONGSIDE_MATCH", "notifier-match"),
    ("ALONGSIDE_SESSION", "notifier-session"),
    ("ALONGSIDE_SESSION", "matcher-session"),
    ("ALONGSIDE_NOTIFICATION", "matcher-notification"),
]
# What a service logs when NATS or Valkey refuses it something.
TROUBLE = {"task.crashed", "nats.error", "outbox.relay_failed", "consumer.retry", "consumer.dead_lettered"}


@pytest.fixture
async def services(
    secure_nats: SecureNatsServer, secure_valkey: SecureValkeyServer, nats_as: NatsLogin
) -> AsyncIterator[list[Runtime]]:
    # As deployed: the admin provisions the streams; the services may only check them.
    await provision((await nats_as("admin")).nc.jetstream(), NAMESPACE)

    def common(service: str) -> dict[str, Any]:
        return {
            **TEST_AUTH,
            "nats_url": secure_nats.url_for(service),
            "redis_url": secure_valkey.url_for(service),
            "namespace": NAMESPACE,
            "health_interval_seconds": 0.1,
            "grace_seconds": 0.5,
            "provision_streams": False,
        }

    runtimes = [
        build_matcher(MatcherSettings.from_env({}, **common("matcher"))),
        build_scheduler(SchedulerSettings.from_env({}, **common("scheduler"))),
        build_notifier(NotifierSettings.from_env({}, **common("notifier"))),
    ]
    for runtime in runtimes:
        await runtime.start()
    yield runtimes
    await asyncio.gather(*(runtime.stop() for runtime in runtimes))


async def emit(matcher: Runtime, tag: str, event: Event) -> None:
    """Commit an event through the matcher's own unit of work and outbox."""
    assert matcher.deps is not None

    async def body(tx: Tx) -> bytes:
        tx.emit(tag, event)
        return b""

    await matcher.deps.uow.run(body)


async def acked(admin: NatsUser, stream: str, durable: str) -> int:
    info = await admin.nc.jetstream().consumer_info(stream, durable)
    return int(info.ack_floor.consumer_seq) if info.num_ack_pending == 0 else 0


async def test_services_work_with_their_own_credentials(
    services: list[Runtime], nats_as: NatsLogin, redis_as: RedisLogin
) -> None:
    matcher = services[0]
    admin, admin_redis = await nats_as("admin"), redis_as("admin", DATABASES["scheduler"])
    with structlog.testing.capture_logs() as logs:
        for runtime in services:

            async def serving(port: int = runtime.port) -> bool:
                return await check(port, None) == OK

            await eventually(serving, timeout=10, what="service serving")
        for stream, durable in DURABLES:  # each created its own durables
            await admin.nc.jetstream().consumer_info(stream, durable)

        peer = matcher_ev.PeerUpserted(
            peer_id="p-1",
            status=matcher_pb2.PEER_STATUS_ACTIVE,
            time_zone="UTC",
            availability=WEEKDAYS_9_17,
            version=1,
        )
        upserted = Event.of("peer.upserted", "/alongside/matcher", peer, subject="p-1")
        await emit(matcher, "p-1", upserted)
        seen = f"{NAMESPACE}:scheduler:{{seen:scheduler-peer}}:{upserted.id}"

        async def calendar_updated() -> bool:
            return bool(await admin_redis.exists(seen))

        await eventually(calendar_updated, timeout=10, what="scheduler handled peer.upserted")

        accepted_at = Timestamp()
        accepted_at.FromDatetime(datetime.now(UTC))
        match = matcher_ev.MatchAccepted(
            match_id="m-1",
            request_id="r-1",
            peer_id="p-1",
            participant_ref="ref-1",
            urgency=matcher_pb2.URGENCY_ROUTINE,
            accepted_at=accepted_at,
            participant_time_zone="UTC",
            participant_availability=WEEKDAYS_9_17,
            session_minutes=60,
            requested_at=accepted_at,
        )
        await emit(matcher, "m-1", Event.of("match.accepted", "/alongside/matcher", match, subject="m-1"))

        async def flowed() -> bool:
            # The scheduler booked (publishing session.booked) and the
            # notifier handled both the match and the session event.
            return all(
                [
                    await acked(admin, "ALONGSIDE_MATCH", "scheduler-match") >= 1,
                    await acked(admin, "ALONGSIDE_MATCH", "notifier-match") >= 1,
                    await acked(admin, "ALONGSIDE_SESSION", "notifier-session") >= 1,
                ]
            )

        await eventually(flowed, timeout=15, what="events flowed between the services")
    session = await admin.nc.jetstream().get_last_msg("ALONGSIDE_SESSION", f"{NAMESPACE}.session.booked")
    assert session.data
    assert (await admin.nc.jetstream().stream_info("ALONGSIDE_DLQ")).state.messages == 0
    trouble = [entry for entry in logs if entry.get("event") in TROUBLE]
    assert not trouble, trouble
    await dashboard_records_written(admin_redis, redis_as("admin", DATABASES["matcher"]))


async def dashboard_records_written(scheduler_redis: Any, matcher_redis: Any) -> None:
    """The dashboard's writes and one-off backfills pass the services' own Valkey logins."""
    intake = await scheduler_redis.hget(f"{NAMESPACE}:scheduler:{{peer:p-1}}:intake", "m-1")
    assert intake is not None and intake.endswith(b"|ROUTINE")
    assert await scheduler_redis.hlen(f"{NAMESPACE}:scheduler:{{peer:p-1}}:facts") == 1  # the booked session

    async def backfilled() -> bool:
        markers = (
            await matcher_redis.exists(f"{NAMESPACE}:matcher:{{roster}}:stats:requests:backfilled"),
            await scheduler_redis.exists(f"{NAMESPACE}:scheduler:{{dir}}:stats-backfilled"),
        )
        return all(markers)

    await eventually(backfilled, timeout=10, what="both dashboard backfills finished")
