"""What the use cases pass around: stored notifications, inbox items, delivery
jobs and outgoing messages. Plain values; the adapters encode them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from alongside.notifier.domain.delivery import DeliveryState
from alongside.notifier.domain.model import Channel, Kind, Urgency
from alongside.notifier.domain.notification import Trigger
from alongside.notifier.domain.templates import Rendered

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class NotificationRecord:
    """One notification as stored: what caused it and how each channel fared."""

    trigger: Trigger
    created: datetime
    urgency: Urgency
    entry: str = ""  # the inbox stream entry id; empty if the inbox was off
    read: bool = False
    deliveries: Mapping[Channel, DeliveryState] = field(default_factory=dict)
    # The W3C traceparent of the work that created it (with tracing on): its
    # deliveries continue that trace.
    trace: str = ""


@dataclass(frozen=True, slots=True)
class InboxEntry:
    """What a new inbox item shows: generic text and the ids to open the object."""

    kind: Kind
    title: str
    body: str
    refs: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class InboxItem:
    """An inbox entry joined with its record, as List and Watch return it."""

    entry: str
    notification_id: str
    peer_id: str
    kind: Kind
    title: str
    body: str
    refs: Mapping[str, str]
    created: datetime
    read: bool
    deliveries: Mapping[Channel, DeliveryState]


@dataclass(frozen=True, slots=True)
class Job:
    """One notification on one outside channel."""

    peer_id: str
    notification_id: str
    channel: Channel


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A rendered message for one channel. ``key`` is stable per event and
    channel (the email Message-ID); the webhook's idempotency key is the event id."""

    channel: Channel
    address: str
    key: str
    event_id: str
    language: str
    rendered: Rendered
