"""Group sessions: a peer's groups (the group calendar) and one group's page
with its meetings, seats and roster, where intake staff enrol a participant.

Who may see a roster is the scheduler's call on the person's own token (the
host, the co-facilitator, staff); a participant is shown only by reference.
"""

from __future__ import annotations

import asyncio
import time
from urllib.parse import quote

import grpc
from grpc import aio
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from alongside.api.scheduler.v1 import scheduler_pb2 as spb
from alongside.console import views
from alongside.console.routes.common import person, redirect
from alongside.console.rpc import key

READERS = ("peer", "intake", "manager", "admin")
ENROLLERS = ("intake", "manager", "admin")
# What the scheduler's refusals mean for the person at the form.
REFUSALS = {
    grpc.StatusCode.ALREADY_EXISTS: "This participant is already enrolled or waiting.",
    grpc.StatusCode.FAILED_PRECONDITION: "This group is not taking enrolments.",
    grpc.StatusCode.INVALID_ARGUMENT: "Enter the participant's reference: letters, digits and . _ : - only.",
}


MODALITIES = {
    spb.GROUP_MODALITY_IN_PERSON: "In person",
    spb.GROUP_MODALITY_VIDEO: "Video",
    spb.GROUP_MODALITY_PHONE: "Phone",
}
STATUSES = {
    spb.ENROLMENT_STATUS_ENROLLED: "Enrolled",
    spb.ENROLMENT_STATUS_WAITING: "Waiting",
    spb.ENROLMENT_STATUS_WITHDRAWN: "Withdrawn",
}
ATTENDANCE = {spb.ATTENDANCE_ATTENDED: "Attended", spb.ATTENDANCE_ABSENT: "Absent"}
WORDS = {"modality": MODALITIES, "status": STATUSES, "attendance": ATTENDANCE, "active": spb.GROUP_STATUS_ACTIVE}
SHOWN_MEETINGS = 4


async def my_groups(request: Request) -> Response:
    """A peer's own groups; staff name the peer."""
    session, _ = person(request, *READERS)
    if session.role == "peer":
        return redirect(request, f"/group-sessions/of/{session.subject}")
    peer_id = request.query_params.get("peer", "").strip()
    if peer_id:
        return redirect(request, f"/group-sessions/of/{quote(peer_id, safe='')}")
    return views.render(request, "group_sessions.html", {"peer_id": "", "groups": [], **WORDS})


async def peer_groups(request: Request) -> Response:
    """The group calendar: the groups a peer hosts or co-facilitates, each with its next meetings."""
    _, calls = person(request, *READERS)
    peer_id = request.path_params["peer_id"]
    now = time.time()
    groups = [
        (g, [o for o in g.occurrences if o.end.seconds > now][:SHOWN_MEETINGS])
        for g in await calls.group_sessions(peer_id)
    ]
    return views.render(request, "group_sessions.html", {"peer_id": peer_id, "groups": groups, **WORDS})


async def group(
    request: Request, error: str = "", status_code: int = 200, values: dict[str, str] | None = None
) -> Response:
    """One group: meetings, seats, the roster by reference, attendance; staff enrol here."""
    session, calls = person(request, *READERS)
    group_id = request.path_params["group_id"]
    found, roster = await asyncio.gather(calls.group_session(group_id), calls.group_enrolments(group_id))
    context = {
        "g": found,
        "roster": roster,
        "error": error,
        "values": values or {},
        **WORDS,
        "may_enrol": session.role in ENROLLERS and found.status == spb.GROUP_STATUS_ACTIVE,
    }
    response = views.render(request, "group_session.html", context)
    response.status_code = status_code
    return response


async def enrol(request: Request) -> Response:
    _, calls = person(request, *ENROLLERS)
    group_id = request.path_params["group_id"]
    form = await request.form()
    ref = str(form.get("participant_ref", "")).strip()
    try:
        await calls.enrol(group_id, ref, str(form.get("idempotency_key", "")) or key())
    except aio.AioRpcError as exc:
        if exc.code() not in REFUSALS:
            raise
        return await group(request, REFUSALS[exc.code()], 400, {"participant_ref": ref})
    return redirect(request, f"/group-sessions/{group_id}")


def routes() -> list[Route]:
    return [
        Route("/group-sessions", my_groups),
        Route("/group-sessions/of/{peer_id}", peer_groups),
        Route("/group-sessions/{group_id}", group),
        Route("/group-sessions/{group_id}/enrol", enrol, methods=["POST"]),
    ]
