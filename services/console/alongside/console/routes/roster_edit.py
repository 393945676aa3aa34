"""Managers: edit a peer — name, types, languages, certifications, ways to meet,
time zone, capacity and weekly availability on the same week grid as intake.

The form changes only what it shows: the peer is read, those fields are
replaced, and the whole peer is upserted. The matcher's INVALID_ARGUMENT
(``peer.<field>: rule``) is shown beside the field.
"""

from __future__ import annotations

from typing import Any

import grpc
from grpc import aio
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from alongside.api.matcher.v1 import matcher_pb2 as mpb
from alongside.console import views
from alongside.console.intake_form import CHOICES, DAY_NAMES, DAY_SHORT, DAYS, HOURS, MODALITIES, PEER_TYPES, windows
from alongside.console.routes.common import person, redirect
from alongside.console.rpc import field_of, key

MANAGERS = ("manager", "admin")
LABELS = {
    "display_name": "Name shown to staff",
    "types": "Peer types",
    "languages": "Languages",
    "certifications": "Certifications",
    "modalities": "Ways to meet",
    "time_zone": "Time zone",
    "capacity": "Caseload capacity (units)",
    "availability": "Weekly availability",
    "form": "The form",
}


def _values(peer: mpb.Peer) -> dict[str, Any]:
    return {
        "display_name": peer.display_name,
        "types": [mpb.PeerType.Name(t).removeprefix("PEER_TYPE_") for t in peer.types],
        "languages": ", ".join(peer.languages),
        "certifications": ", ".join(peer.certifications),
        "modalities": [mpb.Modality.Name(m).removeprefix("MODALITY_") for m in peer.modalities],
        "time_zone": peer.time_zone,
        "capacity": str(peer.capacity),
        "slot": [f"{w.day}-{h}" for w in peer.availability
                 for h in range(w.start_minute // 60, -(-w.end_minute // 60))],
    }


def _page(
    request: Request, peer_id: str, values: dict[str, Any], errors: dict[str, str], status: int = 200
) -> Response:
    context = {"peer_id": peer_id, "values": values, "errors": errors, "labels": LABELS, "key": key(),
               "choices": CHOICES, "peer_types": PEER_TYPES, "modalities": MODALITIES, "days": DAYS, "hours": HOURS,
               "day_names": DAY_NAMES, "day_short": DAY_SHORT}
    return views.render(request, "roster_edit.html", context, status=status)


async def edit(request: Request) -> Response:
    _, calls = person(request, *MANAGERS)
    peer = await calls.peer(request.path_params["peer_id"])
    return _page(request, peer.peer_id, _values(peer), {})


def _apply(peer: mpb.Peer, form: Any) -> dict[str, Any]:
    """Replace the fields the form shows; the form's values, for a page shown again."""
    values = {name: form.get(name, "") for name in ("display_name", "languages", "certifications", "time_zone",
                                                     "capacity")}
    values |= {name: [str(v) for v in form.getlist(name)] for name in ("types", "modalities", "slot")}
    peer.display_name = str(values["display_name"]).strip()
    for name in ("languages", "certifications"):
        field = getattr(peer, name)
        del field[:]
        field.extend(v.strip() for v in str(values[name]).split(",") if v.strip())
    for name, enum, prefix in (("types", mpb.PeerType, "PEER_TYPE_"), ("modalities", mpb.Modality, "MODALITY_")):
        field = getattr(peer, name)
        del field[:]
        known = set(enum.keys())
        field.extend(enum.Value(prefix + v) for v in values[name] if prefix + v in known)
    peer.time_zone = str(values["time_zone"]).strip()
    raw = str(values["capacity"]).strip()
    peer.capacity = int(raw) if raw.isdigit() and len(raw) < 7 else -1
    del peer.availability[:]
    peer.availability.extend(windows(values["slot"]))
    return values


async def save(request: Request) -> Response:
    _, calls = person(request, *MANAGERS)
    form = await request.form()
    peer = await calls.peer(request.path_params["peer_id"])
    values = _apply(peer, form)
    peer.ClearField("load")
    peer.ClearField("version")
    try:
        await calls.upsert_peer(peer, str(form.get("idempotency_key", "")) or key())
    except aio.AioRpcError as exc:
        if exc.code() != grpc.StatusCode.INVALID_ARGUMENT:
            raise
        api_field, message = field_of(exc)
        name = api_field.removeprefix("peer.").split(".", 1)[0].split("[", 1)[0]
        return _page(request, peer.peer_id, values, {name if name in LABELS else "form": message}, status=400)
    return redirect(request, f"/roster/peers/{peer.peer_id}?saved=peer")


def routes() -> list[Route]:
    return [
        Route("/roster/peers/{peer_id}/edit", edit),
        Route("/roster/peers/{peer_id}/edit", save, methods=["POST"]),
    ]
