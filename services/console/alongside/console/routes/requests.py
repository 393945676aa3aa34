"""The open requests (shortlisted, waiting, proposed), searched and filtered,
from the matcher's ListMatchRequests.

The participant's reference is personal-ish: the search form is POSTed, so
it never reaches a URL or the access log; the reply holds request ids only.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from alongside.api.matcher.v1 import matcher_pb2 as mpb
from alongside.console import intake_form, views
from alongside.console.routes.common import STAFF, person
from alongside.kit.ids import is_id

PAGE = 50
STATUSES = {
    "": ("Open (shortlisted, waiting or proposed)", []),
    "SHORTLISTED": ("Shortlisted", [mpb.REQUEST_STATUS_SHORTLISTED]),
    "WAITLISTED": ("Waiting", [mpb.REQUEST_STATUS_WAITLISTED]),
    "PROPOSED": ("Proposed by a batch", [mpb.REQUEST_STATUS_PROPOSED]),
    "MATCHED": ("Matched", [mpb.REQUEST_STATUS_MATCHED]),
}
STATUS_WORDS = {
    mpb.REQUEST_STATUS_SHORTLISTED: "Shortlisted",
    mpb.REQUEST_STATUS_WAITLISTED: "Waiting",
    mpb.REQUEST_STATUS_PROPOSED: "Proposed by a batch",
    mpb.REQUEST_STATUS_MATCHED: "Matched",
    mpb.REQUEST_STATUS_WITHDRAWN: "Withdrawn",
}
MAX_DAYS = 3650


def _choice(value: str, allowed: tuple[str, ...]) -> str:
    return value if value in allowed else ""


def _filters(form: Any) -> dict[str, str]:
    """The form's filters, each kept only if well-formed (a bad one is ignored, not echoed)."""
    days = str(form.get("days", "")).strip()
    ref = str(form.get("ref", "")).strip()
    return {
        "status": _choice(str(form.get("status", "")), tuple(STATUSES)),
        "urgency": _choice(str(form.get("urgency", "")), intake_form.URGENCIES),
        "peer_type": _choice(str(form.get("peer_type", "")), intake_form.PEER_TYPES),
        "age_band": _choice(str(form.get("age_band", "")), intake_form.AGE_BANDS),
        "days": days if days.isdigit() and int(days) <= MAX_DAYS else "",
        "ref": ref if is_id(ref) else "",
        "prefix": "on" if form.get("prefix") else "",
        "bad_ref": "true" if ref and not is_id(ref) else "",
    }


def _request(filters: dict[str, str], page_token: str) -> mpb.ListMatchRequestsRequest:
    req = mpb.ListMatchRequestsRequest(page_size=PAGE, page_token=page_token,
                                       statuses=STATUSES[filters["status"]][1])
    if filters["urgency"]:
        req.urgency = mpb.Urgency.Value(f"URGENCY_{filters['urgency']}")  # type: ignore[assignment]
    if filters["peer_type"]:
        req.peer_type = mpb.PeerType.Value(f"PEER_TYPE_{filters['peer_type']}")  # type: ignore[assignment]
    if filters["age_band"]:
        req.age_band = mpb.AgeBand.Value(f"AGE_BAND_{filters['age_band']}")  # type: ignore[assignment]
    if filters["days"]:
        req.min_days_waiting = int(filters["days"])
    if filters["ref"]:
        req.participant_ref, req.ref_prefix = filters["ref"], bool(filters["prefix"])
    return req


async def open_requests(request: Request) -> Response:
    """GET: the open requests, unfiltered. POST: the search (the reference stays out of URLs)."""
    _, calls = person(request, *STAFF)
    form: Any = await request.form() if request.method == "POST" else {}
    filters = _filters(form)
    token = str(form.get("page_token", ""))[:512]
    reply = await calls.match_requests(_request(filters, token))
    context = {
        "rows": list(reply.requests),
        "next_token": reply.next_page_token,
        "paged": bool(token),
        "f": filters,
        "statuses": {k: v[0] for k, v in STATUSES.items()},
        "status_words": STATUS_WORDS,
        "urgencies": intake_form.URGENCIES,
        "peer_types": intake_form.PEER_TYPES,
        "age_bands": intake_form.AGE_BANDS,
        "choices": intake_form.CHOICES,
        "enum_name": _enum_name,
    }
    fragment = "rows" if views.is_htmx(request) else None
    return views.render(request, "intake_requests.html", context, fragment=fragment)


def _enum_name(kind: str, value: int) -> str:
    """'ADULT' for (AgeBand, 4): the key of intake_form.CHOICES."""
    enum = {"urgency": mpb.Urgency, "peer_type": mpb.PeerType, "age_band": mpb.AgeBand}[kind]
    prefix = {"urgency": "URGENCY_", "peer_type": "PEER_TYPE_", "age_band": "AGE_BAND_"}[kind]
    try:
        return enum.Name(value).removeprefix(prefix)  # type: ignore[arg-type]
    except ValueError:
        return ""


def routes() -> list[Route]:
    return [Route("/intake/requests", open_requests, methods=["GET", "POST"])]
