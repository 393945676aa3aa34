"""CloudEvents 1.0 in NATS binary mode.

The ``ce-*`` attributes travel as NATS headers, the body is the protobuf
message, and ``Nats-Msg-Id`` is the event id so JetStream drops duplicates
inside the stream's duplicate window. Subjects are
``<namespace>.<aggregate>.<event>``, e.g. ``alongside.match.accepted``.

The trace context rides along as the CloudEvents distributed-tracing
extension: ``traceparent`` and ``tracestate`` headers, taken from the span
current when the event is made (inside the transaction that commits it to
the outbox), so whoever consumes it continues the producer's trace.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

from google.protobuf.message import Message

from alongside.kit import tracing
from alongside.kit.ids import new_id

CONTENT_TYPE = "application/protobuf"
SPEC_VERSION = "1.0"
M = TypeVar("M", bound=Message)


@dataclass(frozen=True)
class Event:
    """One event: CloudEvents attributes plus the serialised protobuf body."""

    type: str  # "match.accepted": the subject without the namespace
    source: str  # "/alongside/matcher"
    body: bytes
    schema: str  # full protobuf name of the body
    id: str = field(default_factory=lambda: new_id("ev"))
    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    subject: str = ""  # the aggregate id the event is about, e.g. a match id
    correlation_id: str = ""
    # W3C trace context (``alongside.kit.tracing``): empty when tracing is off.
    traceparent: str = ""
    tracestate: str = ""

    @classmethod
    def of(cls, type: str, source: str, message: Message, *, subject: str = "", correlation_id: str = "") -> Event:
        trace = tracing.carrier()
        return cls(
            type=type,
            source=source,
            body=message.SerializeToString(deterministic=True),
            schema=message.DESCRIPTOR.full_name,
            subject=subject,
            correlation_id=correlation_id,
            traceparent=trace.get(tracing.TRACEPARENT, ""),
            tracestate=trace.get(tracing.TRACESTATE, ""),
        )

    def nats_subject(self, namespace: str) -> str:
        return f"{namespace}.{self.type}"

    def headers(self) -> dict[str, str]:
        headers = {
            "Nats-Msg-Id": self.id,
            "ce-specversion": SPEC_VERSION,
            "ce-id": self.id,
            "ce-source": self.source,
            "ce-type": self.type,
            "ce-time": self.time.isoformat(),
            "ce-dataschema": self.schema,
            "content-type": CONTENT_TYPE,
        }
        if self.subject:
            headers["ce-subject"] = self.subject
        if self.correlation_id:
            headers["ce-correlationid"] = self.correlation_id
        if self.traceparent:
            headers[tracing.TRACEPARENT] = self.traceparent
            if self.tracestate:
                headers[tracing.TRACESTATE] = self.tracestate
        return headers

    @classmethod
    def from_headers(cls, headers: dict[str, str], body: bytes) -> Event:
        missing = [h for h in ("ce-id", "ce-type", "ce-source", "ce-time") if h not in headers]
        if missing:
            raise ValueError(f"not a CloudEvent: missing {', '.join(missing)}")
        return cls(
            type=headers["ce-type"],
            source=headers["ce-source"],
            body=body,
            schema=headers.get("ce-dataschema", ""),
            id=headers["ce-id"],
            time=datetime.fromisoformat(headers["ce-time"]),
            subject=headers.get("ce-subject", ""),
            correlation_id=headers.get("ce-correlationid", ""),
            # Written without a prefix, as the W3C headers; read with the ce- one too (another producer's).
            traceparent=headers.get(tracing.TRACEPARENT) or headers.get(f"ce-{tracing.TRACEPARENT}", ""),
            tracestate=headers.get(tracing.TRACESTATE) or headers.get(f"ce-{tracing.TRACESTATE}", ""),
        )

    def parse(self, message_type: builtins.type[M]) -> M:
        message = message_type()
        message.ParseFromString(self.body)
        return message
