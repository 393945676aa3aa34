"""The audit query API, served by the matcher for programme managers.

Reads the AUDIT stream (every service appends batches of records to it) in
sequence order, filtering by actor, object or action, a page at a time. A
page token is the position (message sequence and index in its batch) of the
last record the page covered.

The reader trusts the stream, not the records: a record belongs to the
service whose subject it came on, whatever it claims; its signature must
verify for that service. What it cannot trust it shows, never fails on: a
message it cannot decode is "unreadable record at sequence N", a sequence
the stream no longer holds (it refuses deletes) is "missing record at
sequence N", and a record whose signature is absent or wrong says so.
"""

from __future__ import annotations

from typing import Any

from google.protobuf.message import DecodeError
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from alongside.api.audit.v1 import audit_pb2 as pb
from alongside.api.audit.v1 import audit_pb2_grpc
from alongside.kit import metrics
from alongside.kit.auth.policy import Policy
from alongside.kit.auth.signing import SignatureCheck
from alongside.kit.errors import InvalidArgument
from alongside.kit.events.streams import CATALOGUE, stream_name

SERVICE = pb.DESCRIPTOR.services_by_name["AuditService"]
AUDIT_POLICY = Policy.for_service(
    SERVICE.full_name, [m.name for m in SERVICE.methods], {"ListAuditRecords": {"manager", "admin"}}
)
AUDIT = next(s for s in CATALOGUE if s.name == "AUDIT")
DEFAULT_PAGE, MAX_PAGE = 100, 1000
MAX_SCANNED = 20_000  # messages per call, so one query cannot tie up the stream
MAX_INDEX = 2**32 - 1  # past the last record of any batch


class AuditServicer(audit_pb2_grpc.AuditServiceServicer):
    def __init__(self, js: JetStreamContext, namespace: str, signatures: SignatureCheck) -> None:
        self._js, self._stream = js, stream_name(namespace, AUDIT)
        self._signatures = signatures

    async def ListAuditRecords(self, request: pb.ListAuditRecordsRequest, context: Any) -> pb.ListAuditRecordsResponse:
        if not 0 <= request.page_size <= MAX_PAGE:
            raise InvalidArgument("page_size", f"must be between 0 and {MAX_PAGE}")
        after = _position(request.page_token)
        size = request.page_size or DEFAULT_PAGE
        info = await self._js.stream_info(self._stream)
        seq = max(after[0], info.state.first_seq, 1)  # an empty stream says first_seq 0, no message has it
        reply = pb.ListAuditRecordsResponse()
        last = info.state.last_seq
        scanned = 0
        while seq <= last and len(reply.records) < size and scanned < MAX_SCANNED:
            for record in await self._read(seq):
                if (record.sequence, record.index) <= after or not (record.problem or _matches(record, request)):
                    continue
                reply.records.append(record)
                if len(reply.records) == size:
                    break
            scanned += 1
            seq += 1
        if reply.records and len(reply.records) == size:
            final = reply.records[-1]
            reply.next_page_token = f"{final.sequence}.{final.index}"
        elif seq <= last:
            reply.next_page_token = f"{seq - 1}.{MAX_INDEX}"  # scanned this far without a full page
        return reply

    async def _read(self, seq: int) -> list[pb.AuditRecord]:
        try:
            raw = await self._js.get_msg(self._stream, seq)
        except NotFoundError:
            return [_problem(seq, "", "missing", f"missing record at sequence {seq}")]
        service = (raw.subject or "").rpartition(".")[2]
        try:
            batch = pb.AuditBatch.FromString(raw.data or b"")
        except DecodeError:
            batch = pb.AuditBatch()
        records = [self._checked(service, signed) for signed in batch.signed_records]
        records += [_unsigned(record) for record in batch.records]  # written before records were signed
        if not records:
            return [_problem(seq, service, "unreadable", f"unreadable record at sequence {seq}")]
        for index, record in enumerate(records):
            record.sequence, record.index, record.service = seq, index, service
        return records

    def _checked(self, service: str, signed: pb.SignedAuditRecord) -> pb.AuditRecord:
        try:
            record = pb.AuditRecord.FromString(signed.record)
        except DecodeError:
            metrics.AUDIT_PROBLEMS.labels("unreadable").inc()
            return pb.AuditRecord(problem="unreadable record")
        if not signed.signature:
            return _unsigned(record)
        if not self._signatures.verify(service, signed.record, signed.signature):
            metrics.AUDIT_PROBLEMS.labels("bad_signature").inc()
            record.problem = "signature does not verify"
        return record


def _unsigned(record: pb.AuditRecord) -> pb.AuditRecord:
    metrics.AUDIT_PROBLEMS.labels("unsigned").inc()
    record.problem = "unsigned"
    return record


def _problem(seq: int, service: str, kind: str, text: str) -> pb.AuditRecord:
    metrics.AUDIT_PROBLEMS.labels(kind).inc()
    return pb.AuditRecord(sequence=seq, service=service, problem=text)


def _position(token: str) -> tuple[int, int]:
    """The (message, index) a page token says to continue after; (0, 0) for none."""
    if not token:
        return 0, 0
    seq, _, index = token.partition(".")
    if not (seq.isascii() and seq.isdigit() and index.isascii() and index.isdigit()) or int(index) > MAX_INDEX:
        raise InvalidArgument("page_token", "is not a token this server issued")
    return int(seq), int(index)


def _matches(record: pb.AuditRecord, request: pb.ListAuditRecordsRequest) -> bool:
    return (
        (not request.actor or record.actor == request.actor)
        and (not request.object_id or request.object_id in record.object_id.split(","))
        and (not request.action or record.action.endswith(request.action))
    )
