"""The audit query API, served by the matcher for programme managers.

Reads the AUDIT stream (every service appends batches of records to it) in
sequence order, filtering by actor, object or action, a page at a time. A
page token is the position (message sequence and index in its batch) of the
last record the page covered.
"""

from __future__ import annotations

from typing import Any

from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from alongside.api.audit.v1 import audit_pb2 as pb
from alongside.api.audit.v1 import audit_pb2_grpc
from alongside.kit.auth.policy import Policy
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
    def __init__(self, js: JetStreamContext, namespace: str) -> None:
        self._js, self._stream = js, stream_name(namespace, AUDIT)

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
                if (record.sequence, record.index) <= after or not _matches(record, request):
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
            return []
        batch = pb.AuditBatch()
        batch.ParseFromString(raw.data or b"")
        for index, record in enumerate(batch.records):
            record.sequence, record.index = seq, index
        return list(batch.records)


def _position(token: str) -> tuple[int, int]:
    """The (message, index) a page token says to continue after; (0, 0) for none."""
    if not token:
        return 0, 0
    seq, _, index = token.partition(".")
    if not (seq.isdigit() and index.isdigit()) or int(index) > MAX_INDEX:
        raise InvalidArgument("page_token", "is not a token this server issued")
    return int(seq), int(index)


def _matches(record: pb.AuditRecord, request: pb.ListAuditRecordsRequest) -> bool:
    return (
        (not request.actor or record.actor == request.actor)
        and (not request.object_id or record.object_id == request.object_id)
        and (not request.action or record.action.endswith(request.action))
    )
