"""Managers: the roster, a peer's page and status, and a roster CSV import
(a preview with per-row errors before anything is saved: ``csv_import``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from alongside.api.matcher.v1 import matcher_pb2 as mpb
from alongside.console import i18n, views
from alongside.console.intake_form import CHOICES, DAY_NAMES, DAY_SHORT
from alongside.console.routes.common import person, redirect
from alongside.console.routes.csv_import import MANAGERS, CsvImport
from alongside.console.rpc import Calls, key


async def _import_roster(calls: Calls, data: bytes, dry_run: bool, idempotency_key: str) -> Any:
    return await calls.import_roster(data, dry_run, idempotency_key)


IMPORT = CsvImport("/roster/import", "roster_import.html", _import_roster)


def routes() -> list[Route]:
    return [
        *roster_routes(),
        *IMPORT.routes(),
    ]


PEER_TYPES = ("RECOVERY_COACH", "PEER_SPECIALIST", "PEER_NAVIGATOR", "YOUTH_PEER", "FAMILY_PEER")
STATUSES = ("ACTIVE", "ON_LEAVE", "INACTIVE")
STATUS_WORDS = {"ACTIVE": "Active", "ON_LEAVE": "On leave", "INACTIVE": "Inactive"}
MAX_NAME = 64  # the matcher's bound on ListPeers.name_contains


async def roster(request: Request) -> Response:
    """The roster, filtered by type, status and language, a page at a time; a peer id opens that peer.
    The search by name is POSTed (a peer's name is personal data: never in a URL)."""
    _, calls = person(request, *MANAGERS)
    q: Any = await request.form() if request.method == "POST" else request.query_params
    peer_id = str(q.get("peer_id", "")).strip()
    if peer_id:
        return redirect(request, f"/roster/peers/{peer_id}")
    kind, status = str(q.get("type", "")), str(q.get("status", ""))
    language = str(q.get("language", "")).strip().lower()
    name = str(q.get("name", "")).strip()[:MAX_NAME] if request.method == "POST" else ""
    filters: dict[str, Any] = {"name_contains": name} if name else {}
    if kind in PEER_TYPES:
        filters["type"] = mpb.PeerType.Value("PEER_TYPE_" + kind)
    if status in STATUSES:
        filters["status"] = mpb.PeerStatus.Value("PEER_STATUS_" + status)
    if language:
        filters["language"] = language
    page = await calls.peers(str(q.get("after", ""))[:512], **filters)
    context = {"rows": _cells(page.peers), "next": page.next_page_token, "type": kind, "status": status,
               "language": language, "name": name, "types": PEER_TYPES, "statuses": STATUSES,
               "status_words": STATUS_WORDS, "choices": CHOICES}
    return views.render(request, "roster.html", context, fragment="results" if views.is_htmx(request) else None)


def _cells(peers: Sequence[mpb.Peer]) -> list[dict[str, str]]:
    """The table's cells, worked out here: each label is translated once per page rather
    than once per row in the template (the page must add little to its RPC, see
    bench/console_pages.py)."""
    types = {mpb.PeerType.Value("PEER_TYPE_" + t): i18n.gettext(CHOICES[t]) for t in PEER_TYPES}
    statuses = {mpb.PeerStatus.Value("PEER_STATUS_" + s): i18n.gettext(STATUS_WORDS[s]) for s in STATUSES}
    load = i18n.gettext("%(load)s of %(capacity)s units")
    return [
        {
            "id": p.peer_id,
            "name": p.display_name or p.peer_id,
            "types": ", ".join(types.get(t, "") for t in p.types),
            "languages": ", ".join(p.languages),
            "load": load % {"load": p.load, "capacity": p.capacity},
            "status": statuses.get(p.status, ""),
        }
        for p in peers
    ]


async def show_peer(request: Request) -> Response:
    _, calls = person(request, *MANAGERS)
    saved = request.query_params.get("saved", "")
    peer = await calls.peer(request.path_params["peer_id"])
    windows = [(DAY_NAMES[w.day], f"{w.start_minute // 60:02d}:{w.start_minute % 60:02d}",
                f"{w.end_minute // 60:02d}:{w.end_minute % 60:02d}") for w in peer.availability if w.day in DAY_NAMES]
    slots = {f"{w.day}-{h}" for w in peer.availability
             for h in range(w.start_minute // 60, -(-w.end_minute // 60))}  # every hour the window touches
    context = {"peer": peer, "slots": slots, "windows": windows, "statuses": STATUSES, "status_words": STATUS_WORDS,
               "saved": saved,
               "choices": CHOICES, "day_names": DAY_NAMES, "day_short": DAY_SHORT, "days": range(1, 8),
               "hours": range(24), "peer_status": mpb.PeerStatus.Name, "peer_type": mpb.PeerType.Name,
               "age_band": mpb.AgeBand.Name, "modality": mpb.Modality.Name, "key": key()}
    return views.render(request, "roster_peer.html", context)


async def set_status(request: Request) -> Response:
    _, calls = person(request, *MANAGERS)
    form = await request.form()
    status, peer_id = str(form.get("status", "")), request.path_params["peer_id"]
    if status not in STATUSES:
        return redirect(request, f"/roster/peers/{peer_id}")
    await calls.set_peer_status(peer_id, mpb.PeerStatus.Value("PEER_STATUS_" + status),
                                str(form.get("idempotency_key", "")) or key())
    return redirect(request, f"/roster/peers/{peer_id}?saved=status")


def roster_routes() -> list[Route]:
    return [
        Route("/roster", roster, methods=["GET", "POST"]),
        Route("/roster/peers/{peer_id}", show_peer),
        Route("/roster/peers/{peer_id}/status", set_status, methods=["POST"]),
    ]
