"""Managers: the programme dashboard (docs/console.md, docs/dashboard.md).

Both stats RPCs at once, with the manager's own token; the range and the
bucket come from a GET form (they are not personal data). The page carries
the charts' data as JSON in a ``<script type="application/json">`` block that
``static/dashboard.js`` draws with the vendored uPlot; every chart also has a
text summary and a data table.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from alongside.console import dashboard_view, views
from alongside.console.routes.common import person

MANAGERS = ("manager", "admin")


async def dashboard(request: Request) -> Response:
    _, calls = person(request, *MANAGERS)
    choice = dashboard_view.Choice.from_query(request.query_params)
    start, end = choice.range(now(request))
    programme, sessions = await asyncio.gather(
        calls.programme_stats(start, end, choice.bucket_value),
        calls.session_stats(start, end, choice.bucket_value),
    )
    charts = dashboard_view.build(programme, sessions)
    context = {
        "charts": charts,
        "chart_data": {c.key: c.data() for c in charts},
        "fewer_label": dashboard_view.fewer(charts[0].k),
        "choice": choice,
        "ranges": dashboard_view.RANGES,
    }
    return views.render(request, "dashboard.html", context)


def now(request: Request) -> datetime:
    """The end of the range: now, or the app's ``clock`` when one is set (bench/console_dashboard.py
    sets it to the end of its simulated year)."""
    clock = getattr(request.app.state, "clock", None)
    return clock() if clock is not None else datetime.now(UTC)


def routes() -> list[Route]:
    return [Route("/dashboard", dashboard)]
