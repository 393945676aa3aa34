"""Managers: edit a peer — every field of the matcher's ``Peer`` but its id,
status (set on the peer's page) and the output-only load and version: name,
types, languages, certifications, cultures, lived experience, recovery
pathways, gender, age groups, ways to meet, service area, time zone,
capacity, weekly availability (on the same week grid as intake) and supervisor.

The form changes only what it shows: the peer is read, the fields the form
carries are laid over it, and the whole peer is upserted, so nothing the form
does not present is lost. A text field counts as shown when the form has it; a
group of checkboxes sends nothing when none is ticked, so the form names each
group it showed (``shown``). Availability is replaced only when the ticked
hours differ from the stored ones (the grid has whole hours; a window at 09:30
stays as it is unless the manager changes the grid). The matcher validates:
its INVALID_ARGUMENT (``peer.<field>: rule``) is shown beside the field.
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
from alongside.console.intake_form import (
    AGE_BANDS,
    CHOICES,
    DAY_NAMES,
    DAY_SHORT,
    DAYS,
    HOURS,
    MODALITIES,
    PEER_TYPES,
    windows,
)
from alongside.console.routes.common import person, redirect
from alongside.console.rpc import field_of, key

MANAGERS = ("manager", "admin")
# In the order the form shows them (the error summary follows it).
LABELS = {
    "display_name": "Name shown to staff",
    "types": "Peer types",
    "languages": "Languages",
    "certifications": "Certifications",
    "cultures": "Cultures",
    "lived_experience": "Lived experience",
    "pathways": "Recovery pathways",
    "gender": "Gender",
    "age_groups": "Age groups they work with",
    "modalities": "Ways to meet",
    "service_area": "Service area",
    "time_zone": "Time zone",
    "capacity": "Caseload capacity (units)",
    "availability": "Weekly availability",
    "supervisor_id": "Supervisor's id",
    "form": "The form",
}
# Single values in a text input.
TEXTS = ("display_name", "gender", "service_area", "time_zone", "capacity", "supervisor_id")
# Tag lists in a text input, comma-separated.
TAG_LISTS = ("languages", "certifications", "cultures", "lived_experience", "pathways")
# Enum lists as checkboxes: form name -> (enum, prefix of its value names).
CHECKBOXES: dict[str, tuple[Any, str]] = {
    "types": (mpb.PeerType, "PEER_TYPE_"),
    "age_groups": (mpb.AgeBand, "AGE_BAND_"),
    "modalities": (mpb.Modality, "MODALITY_"),
}
MAX_CAPACITY_DIGITS = 6


def _slots(peer: mpb.Peer) -> list[str]:
    """Every hour a window touches, as the grid's ``"<day>-<hour>"`` values."""
    return [f"{w.day}-{h}" for w in peer.availability for h in range(w.start_minute // 60, -(-w.end_minute // 60))]


def _names(enum: Any, prefix: str, numbers: Any) -> list[str]:
    known = set(enum.values())
    return [enum.Name(n).removeprefix(prefix) for n in numbers if n in known]


def _values(peer: mpb.Peer) -> dict[str, Any]:
    """The form's values for a stored peer."""
    values: dict[str, Any] = {name: str(getattr(peer, name)) for name in TEXTS}
    values |= {name: ", ".join(getattr(peer, name)) for name in TAG_LISTS}
    values |= {name: _names(enum, prefix, getattr(peer, name)) for name, (enum, prefix) in CHECKBOXES.items()}
    values["slot"] = _slots(peer)
    return values


def _page(
    request: Request, peer_id: str, values: dict[str, Any], errors: dict[str, str], status: int = 200
) -> Response:
    context = {"peer_id": peer_id, "values": values, "errors": errors, "labels": LABELS, "key": key(),
               "choices": CHOICES, "peer_types": PEER_TYPES, "modalities": MODALITIES, "age_bands": AGE_BANDS,
               "days": DAYS, "hours": HOURS, "day_names": DAY_NAMES, "day_short": DAY_SHORT}
    return views.render(request, "roster_edit.html", context, status=status)


async def edit(request: Request) -> Response:
    _, calls = person(request, *MANAGERS)
    peer = await calls.peer(request.path_params["peer_id"])
    return _page(request, peer.peer_id, _values(peer), {})


def _replace(repeated: Any, items: Any) -> None:
    del repeated[:]
    repeated.extend(items)


def _apply(peer: mpb.Peer, form: Any) -> dict[str, Any]:
    """Lay the fields the form carries over ``peer``; the values to show the page again with."""
    values = _values(peer)
    shown = {str(v) for v in form.getlist("shown")}
    for name in (*TEXTS, *TAG_LISTS):
        if name not in form:
            continue
        raw = str(form.get(name, ""))
        values[name] = raw
        if name == "capacity":
            digits = raw.strip()
            peer.capacity = int(digits) if digits.isdigit() and len(digits) <= MAX_CAPACITY_DIGITS else -1
        elif name in TAG_LISTS:
            _replace(getattr(peer, name), (v.strip() for v in raw.split(",") if v.strip()))
        else:
            setattr(peer, name, raw.strip())
    for name, (enum, prefix) in CHECKBOXES.items():
        if name in shown:
            values[name] = [str(v) for v in form.getlist(name)]
            known = set(enum.keys())
            _replace(getattr(peer, name), (enum.Value(prefix + v) for v in values[name] if prefix + v in known))
    if "slot" in shown:
        slots = [str(v) for v in form.getlist("slot")]
        if set(slots) != set(values["slot"]):
            _replace(peer.availability, windows(slots))
        values["slot"] = slots
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
