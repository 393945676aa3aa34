"""The community-group directory (the matcher's ``ListGroups``, ``GetGroup``,
``UpsertGroup``, ``ImportGroups``): staff read it, managers keep it.

The directory, filtered by pathway, language, area, way of meeting and
audience (retired groups on request), a page at a time, each group's weekly
meetings in its own time zone and in the viewer's; a group's page; for
managers a group added or edited (the matcher's refusal shown at the field it
names), retired or brought back, and a CSV import with a dry run first
(``csv_import``, as the roster's). Groups hold no participant data, so the
filters travel in the query string.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import grpc
from grpc import aio
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from alongside.api.matcher.v1 import matcher_pb2 as mpb
from alongside.console import views
from alongside.console.group_form import (
    AUDIENCES,
    LABELS,
    MODALITIES,
    PATHWAYS,
    TAKEN,
    apply,
    audience_names,
    elsewhere,
    field_name,
    known_zone,
    modality_names,
    own,
    pathway_name,
    values_of,
)
from alongside.console.intake_form import DAY_NAMES
from alongside.console.routes.common import STAFF, person, redirect
from alongside.console.routes.csv_import import MANAGERS, CsvImport
from alongside.console.rpc import Calls, field_of, key

PAGE_SIZE = 25
MAX_FILTER = 64  # the matcher's bound on ListGroupsRequest.language and .area
ZONE_INVALID = "must be a known IANA time zone"
WORDS = {"pathways": PATHWAYS, "audiences": AUDIENCES, "modalities": MODALITIES, "day_names": DAY_NAMES,
         "labels": LABELS}


def _filters(q: Any) -> dict[str, str]:
    """The directory's filters as the page shows them (unknown choices dropped)."""
    f = {name: str(q.get(name, "")).strip()[:MAX_FILTER] for name in ("language", "area", "tz")}
    f["pathway"] = str(q.get("pathway", "")) if q.get("pathway") in PATHWAYS else ""
    f["modality"] = str(q.get("modality", "")) if q.get("modality") in MODALITIES else ""
    f["audience"] = str(q.get("audience", "")) if q.get("audience") in AUDIENCES else ""
    f["retired"] = "yes" if q.get("retired") == "yes" else ""
    return f


def _request(f: dict[str, str], after: str) -> mpb.ListGroupsRequest:
    req = mpb.ListGroupsRequest(page_size=PAGE_SIZE, page_token=after, language=f["language"], area=f["area"],
                                include_retired=bool(f["retired"]))
    if f["pathway"]:
        req.pathway = mpb.GroupPathway.Value("GROUP_PATHWAY_" + f["pathway"])  # type: ignore[assignment]
    if f["modality"]:
        req.modality = mpb.Modality.Value("MODALITY_" + f["modality"])  # type: ignore[assignment]
    if f["audience"]:
        req.audience = mpb.GroupAudience.Value("GROUP_AUDIENCE_" + f["audience"])  # type: ignore[assignment]
    return req


def shown(group: mpb.CommunityGroup, viewer: str) -> dict[str, Any]:
    """A group as the pages show it: words for its enums, its meetings in its zone and the viewer's."""
    today = datetime.now(UTC).date()
    return {
        "g": group,
        "pathway": pathway_name(group.pathway),
        "modalities": modality_names(group.modalities),
        "audiences": audience_names(group.audiences) or ["ADULTS"],
        "meetings": [(own(w), elsewhere(w, group.time_zone, viewer, today)) for w in group.meetings],
    }


async def directory(request: Request) -> Response:
    session, calls = person(request, *STAFF)
    f = _filters(request.query_params)
    zone_error = ZONE_INVALID if f["tz"] and not known_zone(f["tz"]) else ""
    page = await calls.community_groups(_request(f, request.query_params.get("after", "")[:512]))
    viewer = f["tz"] if not zone_error else ""
    context = {
        "rows": [shown(g, viewer) for g in page.groups], "next": page.next_page_token, "f": f,
        "zone_error": zone_error, "viewer": viewer, "may_edit": session.role in MANAGERS,
        "query": urlencode({"tz": viewer}) if viewer else "", **WORDS,
    }
    return views.render(request, "groups.html", context, fragment="results" if views.is_htmx(request) else None)


async def show(request: Request) -> Response:
    session, calls = person(request, *STAFF)
    group = await calls.community_group(request.path_params["group_id"])
    tz = request.query_params.get("tz", "").strip()[:MAX_FILTER]
    viewer = tz if known_zone(tz) else ""
    context = {"row": shown(group, viewer), "viewer": viewer, "may_edit": session.role in MANAGERS,
               "saved": request.query_params.get("saved", ""), "key": key(), **WORDS}
    return views.render(request, "group.html", context)


def _form_page(request: Request, values: dict[str, Any], errors: dict[str, str], new: bool,
               status: int = 200) -> Response:
    context = {"values": values, "errors": errors, "new": new, "key": key(), **WORDS}
    return views.render(request, "group_edit.html", context, status=status)


async def new_form(request: Request) -> Response:
    person(request, *MANAGERS)
    return _form_page(request, values_of(mpb.CommunityGroup()), {}, new=True)


async def edit_form(request: Request) -> Response:
    _, calls = person(request, *MANAGERS)
    group = await calls.community_group(request.path_params["group_id"])
    return _form_page(request, values_of(group), {}, new=False)


async def _exists(calls: Calls, group_id: str) -> bool:
    try:
        await calls.community_group(group_id)
    except aio.AioRpcError as exc:
        if exc.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
            return False
        raise
    return True


async def save(request: Request) -> Response:
    """Add (``/groups/new``) or edit a group: every field but ``retired``, which is kept."""
    _, calls = person(request, *MANAGERS)
    form = await request.form()
    new = "group_id" not in request.path_params
    if new:
        group = mpb.CommunityGroup(group_id=str(form.get("group_id", "")).strip())
    else:
        group = await calls.community_group(request.path_params["group_id"])
    values, errors = apply(group, form)
    group.ClearField("version")
    if new and not errors and group.group_id and await _exists(calls, group.group_id):
        errors["group_id"] = TAKEN
    if errors:
        return _form_page(request, values, errors, new, status=400)
    try:
        saved = await calls.upsert_community_group(group, str(form.get("idempotency_key", "")) or key())
    except aio.AioRpcError as exc:
        if exc.code() != grpc.StatusCode.INVALID_ARGUMENT:
            raise
        api_field, message = field_of(exc)
        return _form_page(request, values, {field_name(api_field): message}, new, status=400)
    return redirect(request, f"/groups/{saved.group_id}?saved=group")


async def set_retired(request: Request) -> Response:
    _, calls = person(request, *MANAGERS)
    form = await request.form()
    group = await calls.community_group(request.path_params["group_id"])
    group.retired = form.get("retired") == "yes"
    group.ClearField("version")
    await calls.upsert_community_group(group, str(form.get("idempotency_key", "")) or key())
    return redirect(request, f"/groups/{group.group_id}?saved={'retired' if group.retired else 'restored'}")


async def _import(calls: Calls, data: bytes, dry_run: bool, idempotency_key: str) -> Any:
    return await calls.import_community_groups(data, dry_run, idempotency_key)


IMPORT = CsvImport("/groups/import", "groups_import.html", _import)


def routes() -> list[Route]:
    return [
        Route("/groups", directory),
        *IMPORT.routes(),
        Route("/groups/new", new_form),
        Route("/groups/new", save, methods=["POST"]),
        Route("/groups/{group_id}", show),
        Route("/groups/{group_id}/edit", edit_form),
        Route("/groups/{group_id}/edit", save, methods=["POST"]),
        Route("/groups/{group_id}/retired", set_retired, methods=["POST"]),
    ]
