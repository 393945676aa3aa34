"""A peer's contact preferences: language, time zone, email, which messages,
quiet hours. Saved with the notifier's own rules; its INVALID_ARGUMENT names
the field, shown beside it. Settings the form does not show (webhook,
per-channel kinds) are kept as they were."""

from __future__ import annotations

import contextlib
import re
from typing import Any

import grpc
from grpc import aio
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from alongside.api.notifier.v1 import notifier_pb2 as npb
from alongside.console import views
from alongside.console.routes.common import person
from alongside.console.rpc import Calls, field_of, key

KINDS = {
    "ASSIGNMENT_NEW": "New assignments",
    "SESSION_BOOKED": "Sessions booked",
    "SESSION_RESCHEDULED": "Sessions moved",
    "SESSION_CANCELLED": "Sessions cancelled",
    "SESSION_REMINDER": "Reminders",
    "MATCH_CLOSED": "Assignments closed",
    "CASELOAD_IMPORTED": "Existing caseload added",
    "GROUP_ENROLMENT": "Someone joined your group",
    "GROUP_PROMOTED": "Group places filled from the waiting list",
    "GROUP_REMINDER": "Group meeting reminders",
}
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
# The notifier's field (after "preferences.") -> the form's.
FIELDS = {"language": "language", "time_zone": "time_zone", "email": "email", "channels": "email",
          "kinds": "kinds", "quiet_hours": "quiet_hours"}


async def _current(calls: Calls, peer_id: str) -> npb.ContactPreferences:
    with contextlib.suppress(aio.AioRpcError):
        return await calls.contact_preferences(peer_id)
    return npb.ContactPreferences(peer_id=peer_id, language="en", channels=[npb.CHANNEL_INBOX])


def _values(prefs: npb.ContactPreferences) -> dict[str, Any]:
    quiet = prefs.HasField("quiet_hours")
    q = prefs.quiet_hours
    return {
        "language": prefs.language or "en",
        "time_zone": prefs.time_zone,
        "email_on": npb.CHANNEL_EMAIL in prefs.channels,
        "email": prefs.email,
        "kinds": [npb.Kind.Name(k).removeprefix("KIND_") for k in prefs.kinds] or list(KINDS),
        "quiet_on": quiet,
        "quiet_start": f"{q.start_minute // 60:02d}:{q.start_minute % 60:02d}" if quiet else "22:00",
        "quiet_end": f"{q.end_minute // 60:02d}:{q.end_minute % 60:02d}" if quiet else "07:00",
    }


async def show(request: Request) -> Response:
    session, calls = person(request, "peer")
    prefs = await _current(calls, session.subject)
    return _page(request, _values(prefs), {}, saved=False)


def _page(request: Request, values: dict[str, Any], errors: dict[str, str], saved: bool, status: int = 200) -> Response:
    return views.render(request, "preferences.html",
                        {"values": values, "errors": errors, "saved": saved, "kinds": KINDS, "key": key()},
                        status=status)


async def save(request: Request) -> Response:
    session, calls = person(request, "peer")
    form = await request.form()
    prefs = await _current(calls, session.subject)
    values = {
        "language": str(form.get("language", "")), "time_zone": str(form.get("time_zone", "")).strip(),
        "email_on": form.get("email_on") == "yes", "email": str(form.get("email", "")).strip(),
        "kinds": [str(k) for k in form.getlist("kinds")], "quiet_on": form.get("quiet_on") == "yes",
        "quiet_start": str(form.get("quiet_start", "")), "quiet_end": str(form.get("quiet_end", "")),
    }
    errors = _apply(prefs, values)
    if not errors:
        try:
            await calls.set_contact_preferences(prefs, str(form.get("idempotency_key", "")) or key())
        except aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.INVALID_ARGUMENT:
                raise
            api_field, message = field_of(exc)
            name = api_field.removeprefix("preferences.").split(".", 1)[0].split("[", 1)[0]
            errors[FIELDS.get(name, "form")] = message
    return _page(request, values, errors, saved=not errors, status=400 if errors else 200)


def _apply(prefs: npb.ContactPreferences, v: dict[str, Any]) -> dict[str, str]:
    """Write the form's values into ``prefs``; the errors the form can see by itself."""
    errors: dict[str, str] = {}
    prefs.language, prefs.time_zone, prefs.email = v["language"], v["time_zone"], v["email"]
    channels = [c for c in prefs.channels if c != npb.CHANNEL_EMAIL] or [npb.CHANNEL_INBOX]
    if v["email_on"]:
        channels.append(npb.CHANNEL_EMAIL)
    del prefs.channels[:]
    prefs.channels.extend(channels)
    chosen = [k for k in KINDS if k in v["kinds"]]
    if not chosen:
        errors["kinds"] = "choose at least one kind of message"
    del prefs.kinds[:]
    if len(chosen) < len(KINDS):
        numbers: list[Any] = [npb.Kind.Value("KIND_" + k) for k in chosen]
        prefs.kinds.extend(numbers)
    prefs.ClearField("quiet_hours")
    if v["quiet_on"]:
        start, end = _CLOCK.match(v["quiet_start"]), _CLOCK.match(v["quiet_end"])
        if not (start and end):
            errors["quiet_hours"] = "must be times such as 22:00"
        else:
            prefs.quiet_hours.start_minute = int(start[1]) * 60 + int(start[2])
            prefs.quiet_hours.end_minute = int(end[1]) * 60 + int(end[2])
    return errors


def routes() -> list[Route]:
    return [Route("/preferences", show), Route("/preferences", save, methods=["POST"])]
