"""Managers: batch matching over the waiting list (or chosen requests) with a
policy, its progress live, the proposals to review (fit and explanation,
each peer's load before and after), deselect some, confirm the rest.

Running a batch starts it in the matcher (StartBatchMatch answers at once);
the page then follows its progress over server-sent events
(``/batch/<id>/stream``, from WatchBatchMatch), as the live inbox does, and
the last event brings the review. While it runs, the page offers to cancel it
(CancelBatchMatch: the solver stops within a second). Without JavaScript, ``/batch/<id>`` waits
for the end and shows the review. The console keeps no batch: the review
page carries the batch id and the proposals in its form, and the matcher
holds the batch itself.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
from grpc import aio
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from alongside.api.matcher.v1 import matcher_pb2 as mpb
from alongside.console import views
from alongside.console.routes.common import SignInRequired, person
from alongside.console.rpc import Calls, field_of, key

MANAGERS = ("manager", "admin")
MAX_TIME_LIMIT_S = 60.0
_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
HEARTBEAT_S = 5.0
ENDS = (mpb.BATCH_PHASE_DONE, mpb.BATCH_PHASE_FAILED, mpb.BATCH_PHASE_CANCELLED)
PHASES = {
    mpb.BATCH_PHASE_QUEUED: "queued",
    mpb.BATCH_PHASE_LOADING: "loading",
    mpb.BATCH_PHASE_FLOW: "flow",
    mpb.BATCH_PHASE_LAGRANGIAN: "lagrangian",
    mpb.BATCH_PHASE_CP_SAT: "cpsat",
    mpb.BATCH_PHASE_FAIRNESS: "fairness",
    mpb.BATCH_PHASE_DONE: "done",
    mpb.BATCH_PHASE_FAILED: "failed",
    mpb.BATCH_PHASE_CANCELLED: "cancelled",
}


async def batch_form(request: Request) -> Response:
    _, calls = person(request, *MANAGERS)
    waiting = await calls.waitlist()
    context = {"waiting": len(waiting.requests), "more": bool(waiting.next_page_token), "errors": {}, "key": key(),
               "values": {"scope": "waitlist", "ids": "", "intake_cap": "0", "youth_cap": "0", "fair": True,
                          "time_limit": "10"}}
    return views.render(request, "batch.html", context)


def _number(raw: str, low: float, high: float) -> float | None:
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if low <= value <= high else None


async def run(request: Request) -> Response:
    _, calls = person(request, *MANAGERS)
    form = await request.form()
    values = {k: str(form.get(k, "")) for k in ("scope", "ids", "intake_cap", "youth_cap", "time_limit")}
    values["fair"] = form.get("fair") == "yes"  # type: ignore[assignment]
    errors: dict[str, str] = {}
    ids = [i for i in re.split(r"[\s,]+", values["ids"]) if i] if values["scope"] == "chosen" else []
    if values["scope"] == "chosen" and (not ids or not all(_ID.match(i) for i in ids)):
        errors["ids"] = "List one or more request ids, one per line"
    caps = {name: _number(values[name], 0, 1000) for name in ("intake_cap", "youth_cap")}
    for name, cap in caps.items():
        if cap is None or cap != int(cap):
            errors[name] = "Enter a whole number from 0 (no cap) to 1000"
    limit = _number(values["time_limit"], 1, MAX_TIME_LIMIT_S)
    if limit is None:
        errors["time_limit"] = "Enter a number of seconds from 1 to 60"
    fragment = "content" if views.is_htmx(request) else None  # htmx swaps it into <main>
    if errors or limit is None:
        context = {"waiting": None, "more": False, "errors": errors, "values": values, "key": key()}
        return views.render(request, "batch.html", context, status=200 if fragment else 400, fragment=fragment)
    policy = mpb.BatchPolicy(
        intake_cap_per_peer=int(caps["intake_cap"] or 0),
        youth_cap_per_peer=int(caps["youth_cap"] or 0),
        fairness=mpb.FAIRNESS_MINMAX if values["fair"] else mpb.FAIRNESS_NONE,
    )
    try:
        batch_id = await calls.start_batch(ids, policy, limit, str(form.get("idempotency_key", "")) or key())
    except aio.AioRpcError as exc:
        api_field, message = field_of(exc)
        if exc.code() != grpc.StatusCode.INVALID_ARGUMENT or not api_field.startswith("request_ids"):
            raise
        # The matcher's id rule, beside the box (e.g. an id that starts with a dot).
        context = {"waiting": None, "more": False, "errors": {"ids": message}, "values": values, "key": key()}
        return views.render(request, "batch.html", context, status=200 if fragment else 400, fragment=fragment)
    return views.render(request, "batch_running.html", {"batch_id": batch_id, "key": key()}, fragment=fragment)


async def _review(calls: Calls, batch: mpb.BatchRun) -> dict[str, Any]:
    """The proposals with what a manager needs to judge them: the request's urgency and
    age, the peer's name; the fit, its explanation and the peer's load before and after
    come with the proposal."""
    requests = [p.request_id for p in batch.proposals]
    peers = sorted({p.peer_id for p in batch.proposals})
    found = await asyncio.gather(*(calls.intake(r) for r in requests), *(calls.peer(p) for p in peers),
                                 return_exceptions=True)
    intakes = {r: f for r, f in zip(requests, found[: len(requests)], strict=True) if isinstance(f, mpb.MatchRequest)}
    roster = {p: f for p, f in zip(peers, found[len(requests):], strict=True) if isinstance(f, mpb.Peer)}
    adds: dict[str, int] = {}
    for p in batch.proposals:
        adds[p.peer_id] = adds.get(p.peer_id, 0) + 1
    return {"batch": batch, "intakes": intakes, "roster": roster, "adds": adds, "key": key()}


def _line(event: mpb.BatchProgress) -> dict[str, Any]:
    return {"e": event, "phase": PHASES.get(event.phase, "queued")}


async def _ending(request: Request, calls: Calls, event: mpb.BatchProgress | None) -> str:
    """The review (DONE) or what went wrong, as the block that replaces the spinner."""
    if event is not None and event.phase == mpb.BATCH_PHASE_DONE:
        return views.html(request, "batch_review.html", await _review(calls, event.run), fragment="content")
    failure = event.failure if event is not None else ""
    cancelled = event is not None and event.phase == mpb.BATCH_PHASE_CANCELLED
    context = {"failure": failure, "cancelled": cancelled}
    return views.html(request, "batch_running.html", context, fragment="failed")


async def result(request: Request) -> Response:
    """Without JavaScript: wait for the batch to end, then the review (or what went wrong)."""
    _, calls = person(request, *MANAGERS)
    batch_id = request.path_params["batch_id"]
    if not _ID.match(batch_id):
        return views.render(request, "batch_running.html", {"failure": ""}, status=404, fragment="failed")
    call = calls.watch_batch(batch_id)
    last = None
    try:
        async for reply in call:
            last = reply.progress
    finally:
        call.cancel()
    context = {"batch_id": batch_id, "ending": await _ending(request, calls, last)}
    return views.render(request, "batch_running.html", context)


async def stream(request: Request) -> Response:
    """The batch's progress as server-sent events: ``progress`` for each step (a line
    of the log), then ``done`` with the review, until the session ends.

    The matcher replays a watch from the batch's start; after a reconnect the
    browser's Last-Event-ID says how many lines it already shows. Without a
    session: 204, which tells EventSource to stop reconnecting.
    """
    try:
        session, calls = person(request, *MANAGERS)
    except SignInRequired:
        return Response(status_code=204)
    batch_id = request.path_params["batch_id"]
    if not _ID.match(batch_id):
        return Response(status_code=204)
    seen = request.headers.get("last-event-id", "")
    store = request.app.state.store
    return StreamingResponse(
        _events(request, calls, batch_id, int(seen) if seen.isdigit() else 0, lambda: store.alive(session)),
        media_type="text/event-stream",
        headers={"X-Accel-Buffering": "no"},
    )


def _sse(event: str, html: str, event_id: int | None = None) -> str:
    data = "".join(f"data: {line}\n" for line in html.splitlines()) or "data: \n"
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\n{data}\n"


async def _events(request: Request, calls: Calls, batch_id: str, seen: int,
                  alive: Callable[[], bool]) -> AsyncIterator[str]:
    call = calls.watch_batch(batch_id)
    pending: asyncio.Future[object] | None = None
    count = 0
    try:
        while alive():
            if pending is None:
                pending = asyncio.ensure_future(call.read())
            done, _ = await asyncio.wait({pending}, timeout=HEARTBEAT_S)
            if not done:
                yield ": still here\n\n"
                continue
            reply, pending = pending.result(), None
            if reply is aio.EOF:
                yield _sse("done", await _ending(request, calls, None))
                return
            event: mpb.BatchProgress = reply.progress  # type: ignore[union-attr]
            count += 1
            if count > seen:
                line = views.html(request, "batch_running.html", _line(event), fragment="line")
                yield _sse("progress", line, count)
            if event.phase in ENDS:
                yield _sse("done", await _ending(request, calls, event))
                return
    except aio.AioRpcError:
        yield _sse("done", await _ending(request, calls, None))
    finally:
        if pending is not None:
            pending.cancel()
        call.cancel()


async def cancel(request: Request) -> Response:
    """Stop the batch, then its page again: the progress replays and ends with the cancel."""
    _, calls = person(request, *MANAGERS)
    batch_id = request.path_params["batch_id"]
    if not _ID.match(batch_id):
        return views.render(request, "batch_running.html", {"failure": ""}, status=404, fragment="failed")
    form = await request.form()
    await calls.cancel_batch(batch_id, str(form.get("idempotency_key", "")) or key())
    return views.render(request, "batch_running.html", {"batch_id": batch_id, "key": key()})


async def confirm(request: Request) -> Response:
    _, calls = person(request, *MANAGERS)
    form = await request.form()
    chosen = [str(r) for r in form.getlist("request_ids")]
    if not chosen:  # an empty list would confirm every proposal
        return views.render(request, "batch_done.html", {"nothing": True, "result": None}, status=400)
    result = await calls.confirm_batch(str(form.get("batch_id", "")), chosen,
                                       str(form.get("idempotency_key", "")) or key())
    return views.render(request, "batch_done.html", {"nothing": False, "result": result})


def routes() -> list[Route]:
    return [
        Route("/batch", batch_form),
        Route("/batch/run", run, methods=["POST"]),
        Route("/batch/confirm", confirm, methods=["POST"]),
        Route("/batch/{batch_id}", result),
        Route("/batch/{batch_id}/stream", stream),
        Route("/batch/{batch_id}/cancel", cancel, methods=["POST"]),
    ]
