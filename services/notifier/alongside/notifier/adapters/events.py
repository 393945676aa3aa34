"""The events the notifier publishes, through the outbox.

They carry ids, the channel and a reason code only: never an address, a
rendered text or anything the source event said beyond its id.
"""

from __future__ import annotations

from alongside.api.notifier.v1 import events_pb2
from alongside.api.notifier.v1 import notifier_pb2 as pb
from alongside.kit.events.envelope import Event
from alongside.notifier.domain.model import Channel
from alongside.notifier.service.model import Job

SOURCE = "/alongside/notifier"
SENT = "notification.sent"
FAILED = "notification.failed"
# Published to <namespace>.dlq.notifier.delivery, i.e. the DLQ stream.
DEAD_LETTER = "dlq.notifier.delivery"


def proto_channel(channel: Channel) -> pb.Channel:
    return pb.Channel.Value("CHANNEL_" + channel.name)  # type: ignore[return-value]


def sent(job: Job, source_event_id: str) -> Event:
    body = events_pb2.NotificationSent(
        notification_id=job.notification_id,
        peer_id=job.peer_id,
        channel=proto_channel(job.channel),
        source_event_id=source_event_id,
    )
    return Event.of(SENT, SOURCE, body, subject=job.notification_id, correlation_id=source_event_id)


def failed(job: Job, source_event_id: str, reason: str, attempts: int, *, dead_letter: bool = False) -> Event:
    """``notification.failed``, or with ``dead_letter`` the copy for the DLQ stream."""
    body = events_pb2.NotificationFailed(
        notification_id=job.notification_id,
        peer_id=job.peer_id,
        channel=proto_channel(job.channel),
        source_event_id=source_event_id,
        reason=reason,
        attempts=attempts,
    )
    kind = DEAD_LETTER if dead_letter else FAILED
    return Event.of(kind, SOURCE, body, subject=job.notification_id, correlation_id=source_event_id)
