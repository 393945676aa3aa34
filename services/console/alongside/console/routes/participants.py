"""A peer's assigned participants ("My participants"), from the matcher's
ListAssignments: each shown only as far as the participant's consent allows,
under the 42 CFR Part 2 notice whenever any details are shown.

Whose list may be read is the matcher's call on the person's own token:
another peer's list is PERMISSION_DENIED there and a 403 page here. The URL
holds the peer's id and an opaque page token, never a participant's reference.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from alongside.api.matcher.v1 import matcher_pb2 as mpb
from alongside.console import views
from alongside.console.intake_form import CHOICES
from alongside.console.routes.common import person, redirect

READERS = ("peer", "manager", "admin")


async def my_participants(request: Request) -> Response:
    session, _ = person(request)
    return redirect(request, f"/participants/{session.subject}")


async def participants(request: Request) -> Response:
    _, calls = person(request, *READERS)
    peer_id = request.path_params["peer_id"]
    closed = request.query_params.get("closed") == "1"
    token = request.query_params.get("page", "")[:512]
    reply = await calls.assignments(peer_id, token, include_closed=closed)
    rows = list(reply.assignments)
    notice = next((a.notice for a in rows if a.disclosed and a.notice), "")
    context = {
        "peer_id": peer_id, "rows": rows, "notice": notice, "closed": closed, "paged": bool(token),
        "next_token": reply.next_page_token, "choices": CHOICES,
        "age_band": lambda v: mpb.AgeBand.Name(v).removeprefix("AGE_BAND_"),
        "modality": lambda v: mpb.Modality.Name(v).removeprefix("MODALITY_"),
        "active": mpb.MATCH_STATUS_ACTIVE,
    }
    return views.render(request, "participants.html", context)


def routes() -> list[Route]:
    return [
        Route("/participants", my_participants),
        Route("/participants/{peer_id}", participants),
    ]
