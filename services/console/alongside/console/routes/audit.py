"""Managers: the audit trail, filtered by actor, object and action, a page at a time
(oldest first, as the matcher's AuditService answers). Records hold ids only."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from alongside.api.audit.v1 import audit_pb2 as apb
from alongside.console import views
from alongside.console.routes.common import person

MANAGERS = ("manager", "admin")
PAGE = 50
# A page the service answers may be short (it scans a bounded stretch per call): ask again, this often at most.
MAX_CALLS = 5


async def audit(request: Request) -> Response:
    _, calls = person(request, *MANAGERS)
    q = request.query_params
    filters = {"actor": q.get("actor", "").strip(), "object_id": q.get("object", "").strip(),
               "action": q.get("action", "").strip()}
    records: list[apb.AuditRecord] = []
    token = q.get("after", "")
    for _ in range(MAX_CALLS):
        reply = await calls.audit_records(token, PAGE - len(records), **{k: v for k, v in filters.items() if v})
        records.extend(reply.records)
        token = reply.next_page_token
        if not token or len(records) >= PAGE:
            break
    context = {"records": records, "next": token, "filters": filters}
    return views.render(request, "audit.html", context, fragment="results" if views.is_htmx(request) else None)


def routes() -> list[Route]:
    return [Route("/audit", audit)]
