"""The audit trail: every call that reads or writes participant data leaves a
record (actor, role, action, object id, purpose, outcome, time) on the AUDIT
stream, which refuses deletes and purges.

Records go through the outbox, like events. A call that changes state writes
its record in the same atomic Redis write as the change (``UnitOfWork`` asks
``in_transaction``), so no committed change is without its record, whatever
crashes. Reads, replays and refusals write their record when the call ends
(group commit: calls that end together share one Redis write), and a
successful call answers only once its record is in Redis: UNAVAILABLE
otherwise, no access without a trace. The relay then carries records to
JetStream, so a NATS outage delays the trail but stops no call.

Each record is signed by its service (``alongside.kit.auth.signing``) over
the service's name and the record's bytes. Records hold ids only.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from google.protobuf import descriptor_pool, message_factory
from google.protobuf.descriptor import Descriptor
from google.protobuf.message import DecodeError, Message

from alongside.api.audit.v1 import audit_pb2
from alongside.kit import metrics
from alongside.kit.auth.signing import Signer
from alongside.kit.auth.tokens import Identity
from alongside.kit.batching import GroupCommit
from alongside.kit.errors import Unavailable
from alongside.kit.events.envelope import Event
from alongside.kit.events.outbox import Outbox
from alongside.kit.logging import current_correlation_id, get_logger

log = get_logger(__name__)
PURPOSE_HEADER = "x-purpose"
# HIPAA's uses and disclosures, plus what oversight needs.
PURPOSES = frozenset({"treatment", "payment", "operations", "audit", "research", "emergency"})
DEFAULT_PURPOSE = "operations"
# Request fields that name the object touched, most specific first.
ID_FIELDS = ("session_id", "match_id", "request_id", "batch_id", "peer_id", "erasure_id")
MAX_BATCH = 256  # records in one message at most
# An id longer than any real one (a refused request's garbage) is cut: a whole
# one could make the batch larger than NATS takes, losing every record in it.
MAX_OBJECT_ID = 128
# The outbox (hash tag) of records written outside a transaction.
CALL_TAG = "audit"

_pending: contextvars.ContextVar[Pending | None] = contextvars.ContextVar("audit_pending", default=None)


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


@functools.cache
def _response_type(method: str) -> type[Message] | None:
    """The response message class of a full method name, from the descriptor pool."""
    service, _, name = method.strip("/").partition("/")
    try:
        output = descriptor_pool.Default().FindServiceByName(service).methods_by_name[name].output_type
    except KeyError:
        return None
    return message_factory.GetMessageClass(output)


def _parsed(method: str, response: bytes) -> Message | None:
    kind = _response_type(method)
    if kind is None:
        return None
    try:
        return kind.FromString(response)
    except DecodeError:  # a use case whose transaction returns something else
        return None


def purpose(metadata: Iterable[tuple[str, object]]) -> str:
    given = next((str(v) for k, v in metadata if k == PURPOSE_HEADER), DEFAULT_PURPOSE)
    return given if given in PURPOSES else DEFAULT_PURPOSE


@dataclass
class Pending:
    """The record a call owes: written by its transaction, or when it ends."""

    auditor: Auditor
    method: str
    request: Any
    purpose: str
    correlation_id: str
    identity: Identity | None = None
    # Set by a list call (``name_objects``): the objects it disclosed, comma-separated.
    objects: str = ""
    written: bool = False
    token: contextvars.Token[Pending | None] | None = None

    def record(self, outcome: str, response: Any = None) -> audit_pb2.SignedAuditRecord:
        found = self.objects or object_id(self.request)
        if not found and response is not None:
            found = object_id(_parsed(self.method, response) if isinstance(response, bytes) else response)
        record = audit_pb2.AuditRecord(
            actor=self.identity.subject if self.identity else "",
            role=self.identity.role if self.identity else "",
            action=self.method,
            object_id=found,
            purpose=self.purpose,
            outcome=outcome,
            service=self.auditor.service,
            correlation_id=self.correlation_id,
        )
        record.time.GetCurrentTime()
        return self.auditor.signed(record)


def name_objects(ids: Iterable[str]) -> None:
    """A list call names the objects it disclosed (ids, comma-separated, in its
    record's object id) instead of whatever its request names. Bound the list."""
    pending = _pending.get()
    if pending is not None:
        pending.objects = ",".join(ids)


def in_transaction(pipe: aioredis.client.Pipeline, outbox: Outbox, tag: str, response: bytes) -> Pending | None:
    """Queue the current call's record (outcome OK) on a transaction's ``pipe``,
    in the outbox of ``tag``; the caller marks it written once committed."""
    pending = _pending.get()
    if pending is None or pending.written:
        return None
    pipe.xadd(outbox.key(tag), pending.auditor.entry([pending.record("OK", response)]))
    return pending


def committed(pending: Pending | None) -> None:
    if pending is not None:
        pending.written = True
        metrics.AUDIT_RECORDS.inc()


class Auditor:
    """Owes each audited call a record; writes the ones no transaction wrote."""

    def __init__(
        self,
        r: aioredis.Redis,
        outbox: Outbox,
        service: str,
        audited: Iterable[str],
        signer: Signer | None,
        max_batch: int = MAX_BATCH,
    ) -> None:
        self._r, self._outbox, self.service = r, outbox, service
        self.audited = frozenset(audited)  # full method names
        self._signer = signer
        self._type, self._source = f"audit.{service}", f"/alongside/{service}"
        self._commit = GroupCommit(self._write, _unavailable, max_batch)

    def open(self, method: str, request: Any, metadata: Iterable[tuple[str, object]]) -> Pending | None:
        """Start owing ``method``'s call a record (if it is audited)."""
        if method not in self.audited:
            return None
        pending = Pending(self, method, request, purpose(metadata), current_correlation_id() or "")
        pending.token = _pending.set(pending)
        return pending

    async def close(self, pending: Pending | None, outcome: str, response: Any = None) -> None:
        """Write the call's record unless its transaction did; return once it is
        in Redis. Raises ``Unavailable`` for a successful call whose record
        cannot be written; a refused call keeps its own answer."""
        if pending is None:
            return
        if pending.token is not None:
            with contextlib.suppress(ValueError):  # closed in another context than it was opened
                _pending.reset(pending.token)
            pending.token = None
        if pending.written:
            return
        pending.written = True
        try:
            await self._commit(pending.record(outcome, response))
        except Unavailable:
            if outcome == "OK":
                raise

    def signed(self, record: audit_pb2.AuditRecord) -> audit_pb2.SignedAuditRecord:
        payload = record.SerializeToString(deterministic=True)
        signature = self._signer.sign(self.service, payload) if self._signer else ""
        return audit_pb2.SignedAuditRecord(record=payload, signature=signature)

    def entry(self, records: list[audit_pb2.SignedAuditRecord]) -> dict[Any, Any]:
        """Outbox fields of one message on the audit stream."""
        return Outbox.fields(Event.of(self._type, self._source, audit_pb2.AuditBatch(signed_records=records)))

    async def _write(self, batch: list[audit_pb2.SignedAuditRecord]) -> list[None]:
        try:
            await self._r.xadd(self._outbox.key(CALL_TAG), self.entry(batch))
        except Exception as exc:  # noqa: BLE001 - every call in the batch answers UNAVAILABLE
            log.error("audit.write_failed", error=type(exc).__name__, records=len(batch))
            metrics.AUDIT_FAILURES.inc()
            raise _unavailable() from None
        await self._outbox.committed((CALL_TAG,))
        metrics.AUDIT_RECORDS.inc(len(batch))
        return [None] * len(batch)


def _unavailable() -> Unavailable:
    return Unavailable("the audit trail cannot be written; retry")
