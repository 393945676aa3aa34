"""Intake staff: the new-intake form, its shortlist (accept or decline) or
waiting-list funnel, and the open requests."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import grpc
from grpc import aio
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from alongside.api.matcher.v1 import matcher_pb2 as mpb
from alongside.console import intake_form, views
from alongside.console.routes.common import STAFF, person, redirect
from alongside.console.rpc import Calls, field_of, key
from alongside.matcher.domain.programme_policy import DEFAULT_POLICY, ProgrammePolicy
from alongside.matcher.policy_mappers import policy_in

FORM_CHOICES = {
    "age_bands": intake_form.AGE_BANDS,
    "peer_types": intake_form.PEER_TYPES,
    "modalities": intake_form.MODALITIES,
    "urgencies": intake_form.URGENCIES,
    "recipients": intake_form.RECIPIENTS,
    "session_lengths": intake_form.SESSION_LENGTHS,
    "preferences": intake_form.PREFERENCES,
    "days": intake_form.DAYS,
    "hours": intake_form.HOURS,
    "labels": intake_form.LABELS,
    "choices": intake_form.CHOICES,
    "day_names": intake_form.DAY_NAMES,
    "day_short": intake_form.DAY_SHORT,
}


async def matcher_policy(calls: Calls) -> ProgrammePolicy:
    """The policy the matcher runs, for checking the form by its rules; the built-in
    one while it cannot say (the matcher checks again on submit)."""
    try:
        return policy_in(await calls.policy())
    except aio.AioRpcError:
        return DEFAULT_POLICY


def _form_context(values: dict[str, Any], errors: dict[str, str], shown: set[str] | None, key_: str) -> dict[str, Any]:
    visible = errors if shown is None else {k: v for k, v in errors.items() if k in shown}
    return {**FORM_CHOICES, "values": values, "errors": visible, "idempotency_key": key_}


def _values(form: Any) -> dict[str, Any]:
    return {k: form.getlist(k) if k in ("slot", "peer_types", "pref_modalities", "consent_recipients") else v
            for k, v in form.multi_items()}


async def new_intake(request: Request) -> Response:
    person(request, *STAFF)
    defaults = {"urgency": "ROUTINE", "acuity": "1", "session_minutes": "60", "slot": [], "peer_types": [],
                "pref_modalities": [], "consent_recipients": []}
    return views.render(request, "intake_new.html", _form_context(defaults, {}, None, key()))


async def validate(request: Request) -> Response:
    """As you type: the errors of the fields touched so far, in the API's words."""
    _, calls = person(request, *STAFF)
    form = await request.form()
    checked = intake_form.check(form, datetime.now(UTC), await matcher_policy(calls))
    touched = {t for t in str(form.get("touched", "")).split(",") if t}
    context = _form_context(_values(form), checked.errors, touched, str(form.get("idempotency_key", "")))
    return views.render(request, "intake_new.html", context, fragment="errors")


async def submit(request: Request) -> Response:
    _, calls = person(request, *STAFF)
    form = await request.form()
    checked = intake_form.check(form, datetime.now(UTC), await matcher_policy(calls))
    idem = str(form.get("idempotency_key", "")) or key()
    if checked.ok:
        checked.request.idempotency_key = idem
        try:
            created = await calls.submit(checked.request)
            return redirect(request, f"/intake/requests/{created.request_id}")
        except aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.INVALID_ARGUMENT:
                raise
            api_field, message = field_of(exc)
            checked.errors[intake_form.form_field(api_field) or "form"] = message
    context = _form_context(_values(form), checked.errors, None, idem)
    return views.render(request, "intake_new.html", context, status=400)


async def _names(calls: Calls, state: mpb.MatchRequest) -> dict[str, str]:
    """Each candidate's display name (staff may read the roster)."""
    ids = [c.peer_id for c in state.candidates]
    peers = await asyncio.gather(*(calls.peer(i) for i in ids), return_exceptions=True)
    return {i: p.display_name for i, p in zip(ids, peers, strict=True) if isinstance(p, mpb.Peer) and p.display_name}


async def _shortlist_page(request: Request, calls: Calls, state: mpb.MatchRequest, status: int = 200) -> Response:
    context = {"state": state, "names": await _names(calls, state), "status_name": mpb.RequestStatus.Name(state.status),
               "empty_step": _empty_step(state), "key": key()}
    fragment = "shortlist" if views.is_htmx(request) else None
    return views.render(request, "intake_request.html", context, status=status, fragment=fragment)


def _empty_step(state: mpb.MatchRequest) -> int:
    """The index of the funnel step that emptied the list (-1 when none did)."""
    for i, step in enumerate(state.waitlist_reason.funnel):
        if step.remaining == 0:
            return i
    return -1


async def show_request(request: Request) -> Response:
    _, calls = person(request, *STAFF)
    return await _shortlist_page(request, calls, await calls.intake(request.path_params["request_id"]))


async def accept(request: Request) -> Response:
    _, calls = person(request, *STAFF)
    form = await request.form()
    request_id = request.path_params["request_id"]
    match = await calls.accept(request_id, str(form.get("peer_id", "")), str(form.get("idempotency_key", "")) or key())
    return redirect(request, f"/intake/matches/{match.match_id}")


async def show_match(request: Request) -> Response:
    _, calls = person(request, *STAFF)
    match = await calls.match(request.path_params["match_id"])
    names = await _names(calls, mpb.MatchRequest(candidates=[mpb.Candidate(peer_id=match.peer_id)]))
    return views.render(request, "intake_accepted.html", {"match": match, "name": names.get(match.peer_id, "")})


async def decline(request: Request) -> Response:
    _, calls = person(request, *STAFF)
    form = await request.form()
    request_id = request.path_params["request_id"]
    state = await calls.decline(request_id, str(form.get("peer_id", "")), str(form.get("idempotency_key", "")) or key())
    return await _shortlist_page(request, calls, state)


def routes() -> list[Route]:
    return [
        Route("/intake/new", new_intake),
        Route("/intake/validate", validate, methods=["POST"]),
        Route("/intake", submit, methods=["POST"]),
        Route("/intake/requests/{request_id}", show_request),
        Route("/intake/requests/{request_id}/accept", accept, methods=["POST"]),
        Route("/intake/requests/{request_id}/decline", decline, methods=["POST"]),
        Route("/intake/matches/{match_id}", show_match),
    ]
