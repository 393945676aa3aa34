"""Peers: my sessions (agenda, in my time zone, with the ICS feed), attended or
no-show, and my inbox, live over server-sent events.

Whose calendar or inbox may be read is the services' call, made with the
person's own token: another peer's calendar is PERMISSION_DENIED there, and
a 403 page here.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from itertools import groupby
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import grpc
from grpc import aio
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from alongside.api.matcher.v1 import matcher_pb2 as mpb
from alongside.api.scheduler.v1 import scheduler_pb2 as spb
from alongside.console import sessions, views
from alongside.console.intake_form import CHOICES, DAY_NAMES
from alongside.console.routes.common import SignInRequired, person, redirect
from alongside.console.rpc import Calls, key

PAST_DAYS, AHEAD_DAYS = 7, 35
HEARTBEAT_S = 5.0
READERS = ("peer", "manager", "admin")


async def my_calendar(request: Request) -> Response:
    session, _ = person(request)
    return redirect(request, f"/calendar/{session.subject}")


async def _zone(calls: Calls, peer_id: str) -> str:
    with contextlib.suppress(aio.AioRpcError):
        return (await calls.contact_preferences(peer_id)).time_zone
    return ""


async def calendar(request: Request) -> Response:
    """Agenda (the next weeks) or one week (``?view=week&week=YYYY-MM-DD``), in the peer's zone."""
    _, calls = person(request, *READERS)
    peer_id = request.path_params["peer_id"]
    zone = await _zone(calls, peer_id)
    now = datetime.now(UTC)
    week: date | None = _week_start(request.query_params.get("week", ""), now, zone)
    if week is not None and request.query_params.get("view") == "week":
        start, end = _at_midnight(week, zone) - timedelta(days=1), _at_midnight(week, zone) + timedelta(days=8)
    else:
        week, start, end = None, now - timedelta(days=PAST_DAYS), now + timedelta(days=AHEAD_DAYS)
    found = sorted(await calls.sessions(peer_id, start, end), key=lambda s: s.start.seconds)
    by_day = {day: list(items) for day, items in groupby(found, key=lambda s: s.peer_local_start[:10])}
    context = {"peer_id": peer_id, "zone": zone, "now": now.timestamp(), "status_name": spb.SessionStatus.Name,
               "days": list(by_day.items()), "week": week, "by_day": by_day}
    if week is not None:
        context |= {"week_days": [(week + timedelta(days=i)).isoformat() for i in range(7)],
                    "previous": (week - timedelta(days=7)).isoformat(), "next": (week + timedelta(days=7)).isoformat()}
    return views.render(request, "calendar.html", context)


def _week_start(raw: str, now: datetime, zone: str) -> date:
    """The Monday of the week holding ``raw`` (a date), or of today in the peer's zone."""
    try:
        day = date.fromisoformat(raw) if raw else now.astimezone(_tz(zone)).date()
    except ValueError:
        day = now.astimezone(_tz(zone)).date()
    return day - timedelta(days=day.weekday())


def _tz(zone: str) -> tzinfo:
    try:
        return ZoneInfo(zone) if zone else UTC
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def _at_midnight(day: date, zone: str) -> datetime:
    return datetime.combine(day, time(0), _tz(zone)).astimezone(UTC)


async def feed(request: Request) -> Response:
    _, calls = person(request, *READERS)
    ics = await calls.calendar_feed(request.path_params["peer_id"])
    return Response(ics, media_type="text/calendar; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="sessions.ics"'})


async def mark(request: Request) -> Response:
    _, calls = person(request, *READERS)
    form = await request.form()
    session_id = str(form.get("session_id", ""))
    attended = form.get("outcome") == "attended"
    try:
        updated = await calls.mark(session_id, attended, str(form.get("idempotency_key", "")) or key())
    except aio.AioRpcError as exc:
        if exc.code() != grpc.StatusCode.FAILED_PRECONDITION:
            raise
        updated = await calls.session(session_id)
    if not views.is_htmx(request):
        return redirect(request, f"/calendar/{updated.peer_id}")
    context = {"s": updated, "now": datetime.now(UTC).timestamp(), "status_name": spb.SessionStatus.Name,
               "peer_id": updated.peer_id}
    return views.render(request, "calendar.html", context, fragment="session")


async def inbox(request: Request) -> Response:
    session, calls = person(request, "peer")
    items, zone = await asyncio.gather(calls.notifications(session.subject), _zone(calls, session.subject))
    context = {"items": items, "after": items[0].notification_id if items else "", "zone": zone}
    return views.render(request, "inbox.html", context)


async def acknowledge(request: Request) -> Response:
    session, calls = person(request, "peer")
    form = await request.form()
    note_id = str(form.get("notification_id", ""))
    await calls.acknowledge(session.subject, [note_id], str(form.get("idempotency_key", "")) or key())
    if not views.is_htmx(request):
        return redirect(request, "/inbox")
    items = [n for n in await calls.notifications(session.subject) if n.notification_id == note_id]
    if not items:
        return Response("")
    zone = await _zone(calls, session.subject)
    return views.render(request, "inbox.html", {"n": items[0], "zone": zone}, fragment="item")


async def stream(request: Request) -> Response:
    """New inbox items as server-sent events, until the session ends (sign-out or idle).

    The browser sends Last-Event-ID when it reconnects, so nothing is shown twice.
    Without a session: 204, which tells EventSource to stop reconnecting.
    """
    try:
        session, calls = person(request, "peer")
    except SignInRequired:
        return Response(status_code=204)
    after = request.headers.get("last-event-id") or request.query_params.get("after", "")
    store = request.app.state.store
    return StreamingResponse(
        _events(request, session, calls, after, lambda: store.alive(session)),
        media_type="text/event-stream",
        headers={"X-Accel-Buffering": "no"},
    )


async def _events(request: Request, session: sessions.Session, calls: Calls, after: str,
                  alive: Callable[[], bool]) -> AsyncIterator[str]:
    zone = await _zone(calls, session.subject)
    call = calls.watch(session.subject, after)
    pending: asyncio.Future[object] | None = None
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
                return
            note = reply.notification  # type: ignore[union-attr]
            html = views.html(request, "inbox.html", {"n": note, "zone": zone}, fragment="item")
            data = "".join(f"data: {line}\n" for line in html.splitlines())
            yield f"id: {note.notification_id}\nevent: notification\n{data}\n"
    except aio.AioRpcError:
        return
    finally:
        if pending is not None:
            pending.cancel()
        call.cancel()


async def assignment(request: Request) -> Response:
    """What the peer may know about an assigned participant: only under active consent,
    always with the 42 CFR Part 2 notice (the matcher decides; the console shows)."""
    _, calls = person(request, *READERS)
    found = await calls.assignment(request.path_params["match_id"])
    windows = [(DAY_NAMES[w.day], f"{w.start_minute // 60:02d}:{w.start_minute % 60:02d}",
                f"{w.end_minute // 60:02d}:{w.end_minute % 60:02d}") for w in found.participant.availability
               if w.day in DAY_NAMES]
    context = {"a": found, "windows": windows, "choices": CHOICES, "age_band": mpb.AgeBand.Name,
               "modality": mpb.Modality.Name}
    return views.render(request, "assignment.html", context)


def routes() -> list[Route]:
    return [
        Route("/calendar", my_calendar),
        Route("/calendar/{peer_id}", calendar),
        Route("/calendar/{peer_id}/sessions.ics", feed),
        Route("/sessions/mark", mark, methods=["POST"]),
        Route("/assignments/{match_id}", assignment),
        Route("/inbox", inbox),
        Route("/inbox/ack", acknowledge, methods=["POST"]),
        Route("/inbox/stream", stream),
    ]
