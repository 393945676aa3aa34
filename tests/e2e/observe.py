"""What the system did, as seen from outside: events on NATS, emails at the
sink, and the checks for personal data."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from nats.aio.msg import Msg

from alongside.api.notifier.v1 import notifier_pb2 as npb
from alongside.kit.events.envelope import Event
from alongside.kit.testing.smtp import Mail

SUBJECTS: dict[int, str] = {
    npb.KIND_ASSIGNMENT_NEW: "You have a new assignment in Alongside",
    npb.KIND_SESSION_BOOKED: "A session has been booked",
    npb.KIND_SESSION_RESCHEDULED: "A session has been rescheduled",
    npb.KIND_SESSION_CANCELLED: "A session has been cancelled",
    npb.KIND_SESSION_REMINDER: "Reminder: you have a session coming up",
    npb.KIND_MATCH_CLOSED: "An assignment has been closed",
    npb.KIND_CASELOAD_IMPORTED: "Your caseload was added to Alongside",
    npb.KIND_GROUP_ENROLMENT: "Someone has joined your group",
    npb.KIND_GROUP_PROMOTED: "A place in your group has been filled",
    npb.KIND_GROUP_REMINDER: "Reminder: your peer support group meets soon",
}


def leaks(text: str, canaries: Iterable[str]) -> list[str]:
    return sorted(c for c in canaries if c.lower() in text.lower())


def readable(mail: Mail) -> str:
    """Every header but the recipient's and every decoded text part."""
    headers = [f"{name}: {value}" for name, value in mail.message.items() if name.lower() != "to"]
    parts = [str(p.get_content()) for p in mail.message.walk() if p.get_content_maintype() == "text"]
    return "\n".join([*headers, *parts])


def sent_by_email(item: npb.Notification) -> bool:
    return any(d.channel == npb.CHANNEL_EMAIL and d.status == npb.DELIVERY_STATUS_SENT for d in item.deliveries)


def describe(item: npb.Notification) -> str:
    deliveries = ", ".join(
        f"{npb.Channel.Name(d.channel)}={npb.DeliveryStatus.Name(d.status)}/{d.attempts}/{d.reason}"
        for d in item.deliveries
    )
    return f"{npb.Kind.Name(item.kind)} [{deliveries}]"


def of_kind(items: Iterable[npb.Notification], kind: int) -> list[npb.Notification]:
    return [n for n in items if n.kind == kind]


def mails(mail_list: Iterable[Mail], address: str, kind: int) -> list[Mail]:
    return [m for m in mail_list if address in m.to and m.message["Subject"] == SUBJECTS[kind]]


def message_ids(found: Iterable[Mail]) -> set[str]:
    return {str(m.message["Message-ID"]) for m in found}


@dataclass
class EventLog:
    """Match and session events as published on NATS."""

    events: list[Event] = field(default_factory=list)

    async def received(self, msg: Msg) -> None:
        self.events.append(Event.from_headers(dict(msg.headers or {}), msg.data or b""))

    def of(self, event_type: str, message_type: Any, **facts: str) -> list[Any]:
        """Bodies of ``event_type`` whose fields equal ``facts``."""
        bodies = [e.parse(message_type) for e in self.events if e.type == event_type]
        return [b for b in bodies if all(getattr(b, k) == v for k, v in facts.items())]
