"""A notifier running in-process against the harness's real Redis and NATS,
reached through a real gRPC stub, and the producers' events to feed it."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import redis.asyncio as aioredis
from google.protobuf.timestamp_pb2 import Timestamp
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from alongside.api.matcher.v1 import events_pb2 as match_events
from alongside.api.matcher.v1 import matcher_pb2
from alongside.api.notifier.v1 import notifier_pb2 as pb
from alongside.api.notifier.v1 import notifier_pb2_grpc
from alongside.api.scheduler.v1 import events_pb2 as session_events
from alongside.kit.events.envelope import Event
from alongside.kit.ids import new_id
from alongside.kit.redis import Keys
from alongside.kit.runtime import Runtime

SECRET = "test-webhook-secret"
EMAIL = pb.CHANNEL_EMAIL
INBOX = pb.CHANNEL_INBOX
WEBHOOK = pb.CHANNEL_WEBHOOK


class FakeClock:
    """A clock the test moves by hand, so quiet hours need no waiting."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def stamp(instant: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(instant)
    return ts


def accepted(peer_id: str, *, urgent: bool = False, match_id: str | None = None, **extra: Any) -> Event:
    urgency = matcher_pb2.URGENCY_URGENT if urgent else matcher_pb2.URGENCY_ROUTINE
    fields = {"request_id": new_id("r"), **extra}
    body = match_events.MatchAccepted(match_id=match_id or new_id("m"), peer_id=peer_id, urgency=urgency, **fields)
    return Event.of("match.accepted", "/alongside/matcher", body, subject=body.match_id)


def closed(peer_id: str, match_id: str = "m-1") -> Event:
    body = match_events.MatchClosed(match_id=match_id, request_id=new_id("r"), peer_id=peer_id)
    return Event.of("match.closed", "/alongside/matcher", body, subject=match_id)


def session(kind: str, peer_id: str, start: datetime, *, session_id: str = "p-1~s-1", **extra: Any) -> Event:
    """``booked``, ``rescheduled``, ``cancelled`` or ``reminder_due``."""
    types = {
        "booked": session_events.SessionBooked,
        "rescheduled": session_events.SessionRescheduled,
        "cancelled": session_events.SessionCancelled,
        "reminder_due": session_events.SessionReminderDue,
    }
    body = types[kind](session_id=session_id, peer_id=peer_id, start=stamp(start), **extra)
    return Event.of(f"session.{kind}", "/alongside/scheduler", body, subject=session_id)


def with_id(event: Event, event_id: str) -> Event:
    return dataclasses.replace(event, id=event_id)


class Collector:
    """Every message on a subject, read from its JetStream stream."""

    def __init__(self) -> None:
        self.msgs: list[Msg] = []

    async def start(self, js: JetStreamContext, subject: str) -> Collector:
        await js.subscribe(subject, ordered_consumer=True, cb=self._received)
        return self

    async def _received(self, msg: Msg) -> None:
        self.msgs.append(msg)

    def of_type(self, event_type: str) -> list[Msg]:
        return [m for m in self.msgs if (m.headers or {}).get("ce-type") == event_type]


@dataclass
class Running:
    runtime: Runtime
    channel: grpc.aio.Channel
    stub: notifier_pb2_grpc.NotifierServiceStub
    nc: Client
    js: JetStreamContext
    redis: aioredis.Redis
    namespace: str

    @property
    def keys(self) -> Keys:
        return Keys(self.namespace, "notifier")

    async def publish(self, event: Event, *, msg_id: str | None = None) -> Event:
        headers = event.headers()
        if msg_id is not None:  # past JetStream's duplicate window, as a redelivery would be
            headers["Nats-Msg-Id"] = msg_id
        await self.js.publish(event.nats_subject(self.namespace), event.body, headers=headers)
        return event

    async def collect(self, pattern: str = "notification.>") -> Collector:
        return await Collector().start(self.js, f"{self.namespace}.{pattern}")

    async def set_prefs(self, peer_id: str, **fields: Any) -> pb.ContactPreferences:
        reply = await self.stub.SetContactPreferences(
            pb.SetContactPreferencesRequest(
                idempotency_key=new_id("k"), preferences=pb.ContactPreferences(peer_id=peer_id, **fields)
            )
        )
        prefs: pb.ContactPreferences = reply.preferences
        return prefs

    async def items(self, peer_id: str, **request: Any) -> list[pb.Notification]:
        reply = await self.stub.ListNotifications(pb.ListNotificationsRequest(peer_id=peer_id, **request))
        return list(reply.notifications)

    async def delivery(self, peer_id: str, channel: int) -> pb.Delivery | None:
        """The newest item's delivery on ``channel``."""
        for item in await self.items(peer_id, page_size=1):
            for d in item.deliveries:
                if d.channel == channel:
                    return d
        return None

    async def close(self) -> None:
        await self.channel.close()
        await self.runtime.stop()
        await self.nc.drain()
        await self.redis.aclose()


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)
