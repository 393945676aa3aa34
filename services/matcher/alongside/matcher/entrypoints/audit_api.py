"""The audit query API, served by the matcher for programme managers.

Reads the AUDIT stream (every service appends to it) in sequence order,
filtering by actor, object or action, a page at a time.
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
MAX_SCANNED = 20_000  # per call, so one query cannot tie up the stream


class AuditServicer(audit_pb2_grpc.AuditServiceServicer):
    def __init__(self, js: JetStreamContext, namespace: str) -> None:
        self._js, self._stream = js, stream_name(namespace, AUDIT)

    async def ListAuditRecords(self, request: pb.ListAuditRecordsRequest, context: Any) -> pb.ListAuditRecordsResponse:
        if not 0 <= request.page_size <= MAX_PAGE:
            raise InvalidArgument("page_size", f"must be between 0 and {MAX_PAGE}")
        if request.page_token and not request.page_token.isdigit():
            raise InvalidArgument("page_token", "is not a token this server issued")
        size = request.page_size or DEFAULT_PAGE
        info = await self._js.stream_info(self._stream)
        seq = max(int(request.page_token or 0) + 1, info.state.first_seq)
        reply = pb.ListAuditRecordsResponse()
        last = info.state.last_seq
        scanned = 0
        while seq <= last and len(reply.records) < size and scanned < MAX_SCANNED:
            record = await self._read(seq)
            scanned += 1
            if record is not None and _matches(record, request):
                reply.records.append(record)
            seq += 1
        if seq <= last:
            reply.next_page_token = str(seq - 1)
        return reply

    async def _read(self, seq: int) -> pb.AuditRecord | None:
        try:
            raw = await self._js.get_msg(self._stream, seq)
        except NotFoundError:
            return None
        record = pb.AuditRecord()
        record.ParseFromString(raw.data or b"")
        record.sequence = seq
        return record


def _matches(record: pb.AuditRecord, request: pb.ListAuditRecordsRequest) -> bool:
    return (
        (not request.actor or record.actor == request.actor)
        and (not request.object_id or record.object_id == request.object_id)
        and (not request.action or record.action.endswith(request.action))
    )
