"""Templates: one Jinja2 environment, one ``render`` for pages and fragments.

A route renders a template; for an htmx request it may name a block of the
same template (``fragment``) so one template serves both entry points
(the Hypermedia Systems pattern).
"""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jinja2
from babel.dates import format_date
from starlette.requests import Request
from starlette.responses import HTMLResponse

from alongside.console import i18n, sessions
from alongside.console.phrases import say
from alongside.console.rpc import key

TEMPLATES = Path(__file__).parent / "templates"

env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=jinja2.select_autoescape(("html",)),
    extensions=["jinja2.ext.i18n"],
    undefined=jinja2.StrictUndefined,
    auto_reload=False,
)
env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]


STATUS_WORDS = {
    "SESSION_STATUS_BOOKED": "Booked",
    "SESSION_STATUS_CANCELLED": "Cancelled",
    "SESSION_STATUS_ATTENDED": "Attended",
    "SESSION_STATUS_NO_SHOW": "No-show",
}
SEGMENT_COLOURS = 6


def clock(value: str) -> str:
    """The wall-clock time of an ISO 8601 local time with offset: '14:30'."""
    try:
        return datetime.fromisoformat(value).strftime("%H:%M")
    except ValueError:
        return value


def longdate(value: str) -> str:
    """'2026-12-07' as the day in words, in the page's language."""
    try:
        return format_date(date.fromisoformat(value), format="full", locale=i18n.current())
    except ValueError:
        return value


def shortdate(value: str) -> str:
    """'2026-12-07' as 'Mon 7 Dec' in the page's language."""
    try:
        return format_date(date.fromisoformat(value), format="EEE d MMM", locale=i18n.current())
    except ValueError:
        return value


def local_time(stamp: Any, zone: str) -> str:
    """A protobuf Timestamp as wall-clock time in ``zone`` (UTC when unknown), e.g. '2026-12-07 14:30 CET'."""
    moment: datetime = stamp.ToDatetime(tzinfo=UTC)
    with contextlib.suppress(ZoneInfoNotFoundError, ValueError):
        moment = moment.astimezone(ZoneInfo(zone)) if zone else moment
    return moment.strftime("%Y-%m-%d %H:%M %Z")


def segments(contributions: Any) -> list[dict[str, Any]]:
    """Stacked-bar segments (x, width in 0-100) for a candidate's contributions,
    scaled so that full marks on every criterion fill the bar."""
    total = sum(max(c.max_points, 0.0) for c in contributions) or 1.0
    out, x = [], 0.0
    for i, c in enumerate(contributions):
        width = 100 * max(c.points, 0.0) / total
        out.append({"x": round(x, 3), "width": round(width, 3), "colour": i % SEGMENT_COLOURS})
        x += width
    return out


env.filters.update(clock=clock, longdate=longdate, shortdate=shortdate, segments=segments, local_time=local_time)
env.globals.update(new_key=key, status_word=STATUS_WORDS.get, say=say)


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, *, status: int = 200,
    fragment: str | None = None, headers: dict[str, str] | None = None,
) -> HTMLResponse:
    return HTMLResponse(html(request, template, context, fragment), status_code=status, headers=headers)


def html(request: Request, template: str, context: dict[str, Any] | None = None, fragment: str | None = None) -> str:
    """The page, or one block of it (``fragment``), as text."""
    session = sessions.current(request)
    page = env.get_template(template)
    values = {
        "request": request,
        "session": session,
        "csrf_token": session.csrf,
        "lang": i18n.current(),
        "languages": i18n.LANGUAGES,
        "idle_seconds": request.app.state.settings.idle_timeout_seconds,
        **(context or {}),
    }
    if fragment is not None:
        return "".join(page.blocks[fragment](page.new_context(values)))
    return page.render(values)
