"""Managers: batch matching over the waiting list (or chosen requests) with a
policy, the proposals to review (fit, each peer's load now and what the batch
adds), deselect some, confirm the rest.

The console keeps no batch: the review page carries the batch id and the
proposals in its form, and the matcher holds the batch itself.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from alongside.api.matcher.v1 import matcher_pb2 as mpb
from alongside.console import views
from alongside.console.routes.common import person
from alongside.console.rpc import Calls, key

MANAGERS = ("manager", "admin")
MAX_TIME_LIMIT_S = 60.0
_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


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
    batch = await calls.run_batch(ids, policy, limit, str(form.get("idempotency_key", "")) or key())
    return views.render(request, "batch_review.html", await _review(calls, batch), fragment=fragment)


async def _review(calls: Calls, batch: mpb.BatchRun) -> dict[str, Any]:
    """The proposals with what a manager needs to judge them: the request's urgency and
    age, the peer's name and load now, and how many this batch adds to each peer."""
    requests = [p.request_id for p in batch.proposals]
    peers = sorted({p.peer_id for p in batch.proposals})
    found = await asyncio.gather(*(calls.intake(r) for r in requests), *(calls.peer(p) for p in peers),
                                 return_exceptions=True)
    intakes = {r: f for r, f in zip(requests, found[: len(requests)], strict=True) if isinstance(f, mpb.MatchRequest)}
    roster = {p: f for p, f in zip(peers, found[len(requests):], strict=True) if isinstance(f, mpb.Peer)}
    return {"batch": batch, "intakes": intakes, "roster": roster, "adds": Counter(p.peer_id for p in batch.proposals),
            "key": key()}


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
    ]
