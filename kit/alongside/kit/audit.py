"""The audit trail: every call that reads or writes participant data appends
a record (actor, role, action, object id, purpose, outcome, time) to the
AUDIT stream, which refuses deletes and purges.

Records hold ids only. A successful call whose record cannot be written is
answered UNAVAILABLE instead of with the data: no access without a trace.
Each message on the stream is an ``AuditBatch``: the records of the calls
that finished together (group commit), so a busy service pays for one
acknowledged write per batch rather than one per call.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from google.protobuf.descriptor import Descriptor
from google.protobuf.message import Message
from nats.js import JetStreamContext

from alongside.api.audit.v1 import audit_pb2
from alongside.kit import metrics
from alongside.kit.auth.tokens import Identity
from alongside.kit.batching import GroupCommit
from alongside.kit.errors import Unavailable
from alongside.kit.events.envelope import Event
from alongside.kit.logging import current_correlation_id, get_logger

log = get_logger(__name__)
PURPOSE_HEADER = "x-purpose"
# HIPAA's uses and disclosures, plus what oversight needs.
PURPOSES = frozenset({"treatment", "payment", "operations", "audit", "research", "emergency"})
DEFAULT_PURPOSE = "operations"
# Request fields that name the object touched, most specific first.
ID_FIELDS = ("session_id", "match_id", "request_id", "batch_id", "peer_id")
MAX_BATCH = 256  # records in one message at most
# An id longer than any real one (a refused request's garbage) is cut: a whole
# one could make the batch larger than NATS takes, losing every record in it.
MAX_OBJECT_ID = 128


def object_id(*messages: object) -> str:
    """The object a call touched: an id field of the request, else of the
    response or one of its parts (a new match request's id is in the reply)."""
    for message in messages:
        if not isinstance(message, Message):
            continue
        found = _id_of(message)
        for part in () if found else _parts(message):
            found = _id_of(part)
            if found:
                break
        if found:
            return found
    return ""


def _id_of(message: Message) -> str:
    for name in _id_fields(message.DESCRIPTOR):
        if value := getattr(message, name):
            return str(value)[:MAX_OBJECT_ID]
    return ""


@functools.cache
def _id_fields(descriptor: Descriptor) -> tuple[str, ...]:
    """The fields of ``ID_FIELDS`` a message type has, in that order (asked once per type)."""
    return tuple(name for name in ID_FIELDS if name in descriptor.fields_by_name)


def _parts(message: Message) -> list[Message]:
    return [
        value for field, value in message.ListFields() if field.message_type is not None and isinstance(value, Message)
    ]


def purpose(metadata: Iterable[tuple[str, object]]) -> str:
    given = next((str(v) for k, v in metadata if k == PURPOSE_HEADER), DEFAULT_PURPOSE)
    return given if given in PURPOSES else DEFAULT_PURPOSE


class Auditor:
    """Writes audit records with group commit: a record is appended to the
    next batch, and the call waits until the batch holding it is stored
    (PubAck). While one batch is in flight the next one fills, so under load
    many calls share one write, and an idle service writes each at once."""

    def __init__(
        self, js: JetStreamContext, namespace: str, service: str, audited: Iterable[str], max_batch: int = MAX_BATCH
    ) -> None:
        self._js, self._namespace, self._service = js, namespace, service
        self.audited = frozenset(audited)  # full method names
        self._commit = GroupCommit(self._write, _unavailable, max_batch)

    async def record(
        self,
        action: str,
        request: object,
        metadata: Iterable[tuple[str, object]],
        outcome: str,
        identity: Identity | None,
    ) -> None:
        """Return once the record is stored; raise ``Unavailable`` if it cannot be."""
        record = audit_pb2.AuditRecord(
            actor=identity.subject if identity else "",
            role=identity.role if identity else "",
            action=action,
            object_id=object_id(*request) if isinstance(request, tuple) else object_id(request),
            purpose=purpose(metadata),
            outcome=outcome,
            service=self._service,
            correlation_id=current_correlation_id() or "",
        )
        record.time.GetCurrentTime()
        await self._commit(record)

    async def _write(self, batch: list[audit_pb2.AuditRecord]) -> list[None]:
        event = Event.of(f"audit.{self._service}", f"/alongside/{self._service}", audit_pb2.AuditBatch(records=batch))
        try:
            await self._js.publish(event.nats_subject(self._namespace), event.body, headers=event.headers())
        except Exception as exc:  # noqa: BLE001 - every call in the batch answers UNAVAILABLE
            log.error("audit.write_failed", error=type(exc).__name__, records=len(batch))
            metrics.AUDIT_FAILURES.inc()
            raise _unavailable() from None
        metrics.AUDIT_RECORDS.inc(len(batch))
        return [None] * len(batch)


def _unavailable() -> Unavailable:
    return Unavailable("the audit trail cannot be written; retry")
