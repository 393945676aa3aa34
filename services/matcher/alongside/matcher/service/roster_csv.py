"""Roster CSV: one peer per row. A bad row is reported with its line, field
and reason and is not imported; the good rows are.

Columns (header row required; list cells are separated by ``;``):
peer_id, display_name, types, certifications, languages, cultures, gender,
lived_experience, pathways, modalities, service_area, age_groups, time_zone,
availability (``mon 09:00-12:00; thu 13:30-17:00``), capacity, status,
supervisor_id. Only peer_id, types, time_zone and capacity are required.
"""

from __future__ import annotations

import csv
import io
import re
from enum import StrEnum
from typing import TypeVar

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.kit.errors import InvalidArgument
from alongside.matcher.domain import model as m
from alongside.matcher.domain.validation import validate_peer

COLUMNS = (
    "peer_id", "display_name", "types", "certifications", "languages", "cultures", "gender",
    "lived_experience", "pathways", "modalities", "service_area", "age_groups", "time_zone",
    "availability", "capacity", "status", "supervisor_id",
)  # fmt: skip
E = TypeVar("E", bound=StrEnum)
REQUIRED = ("peer_id", "types", "time_zone", "capacity")
MAX_ROWS = 20_000
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WINDOW = re.compile(r"^(\w{3})\w*\s+(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")


def parse_roster(data: bytes) -> tuple[list[m.Peer], list[pb.RowError]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidArgument("csv", "must be UTF-8 text") from None
    reader = csv.reader(io.StringIO(text))
    header = [h.strip() for h in next(reader, [])]
    _check_header(header)
    peers: list[m.Peer] = []
    errors: list[pb.RowError] = []
    seen: set[str] = set()
    for number, row in enumerate(reader, start=2):
        if number - 1 > MAX_ROWS:
            raise InvalidArgument("csv", f"must hold at most {MAX_ROWS} rows")
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            reason = f"has {len(row)} fields, the header has {len(header)}"
            errors.append(pb.RowError(line=number, field="row", reason=reason))
            continue
        cells = {name: value.strip() for name, value in zip(header, row, strict=True)}
        try:
            peer = validate_peer(_peer(cells))
        except InvalidArgument as exc:
            errors.append(pb.RowError(line=number, field=exc.field, reason=exc.message.split(": ", 1)[-1]))
            continue
        if peer.peer_id in seen:
            errors.append(pb.RowError(line=number, field="peer_id", reason="appears on an earlier row"))
            continue
        seen.add(peer.peer_id)
        peers.append(peer)
    return peers, errors


def _check_header(header: list[str]) -> None:
    if len(header) == 1:
        for name, mark in (("semicolons", ";"), ("tabs", "\t")):
            if mark in header[0]:
                raise InvalidArgument(
                    "csv",
                    f"the header is one column with {name} in it: the file seems separated by {name};"
                    " save it with commas between columns (';' separates the items inside a cell)",
                )
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InvalidArgument("csv", f"the header lacks the column(s): {', '.join(missing)}")
    unknown = [c for c in header if c not in COLUMNS]
    if unknown:
        raise InvalidArgument("csv", f"unknown column(s): {', '.join(unknown)}; known: {', '.join(COLUMNS)}")


def _list(cell: str) -> frozenset[str]:
    return frozenset(part.strip() for part in cell.split(";") if part.strip())


def _enums(field: str, cell: str, enum: type[E]) -> frozenset[E]:
    out: set[E] = set()
    for part in _list(cell):
        name = part.upper().replace(" ", "_").replace("-", "_")
        if name not in enum.__members__:
            allowed = ", ".join(member.lower() for member in enum.__members__)
            raise InvalidArgument(field, f"holds an unknown value; allowed: {allowed}")
        out.add(enum[name])
    return frozenset(out)


def _windows(cell: str) -> tuple[m.WeeklyWindow, ...]:
    out = []
    for part in _list(cell):
        found = _WINDOW.match(part.lower())
        if not found or found.group(1) not in DAYS:
            raise InvalidArgument("availability", "must look like 'mon 09:00-12:00; thu 13:30-17:00'")
        day, h1, m1, h2, m2 = found.groups()
        out.append(m.WeeklyWindow(DAYS.index(day), int(h1) * 60 + int(m1), int(h2) * 60 + int(m2)))
    return tuple(sorted(out, key=lambda w: (w.day, w.start_minute)))


def _peer(c: dict[str, str]) -> m.Peer:
    capacity = c.get("capacity", "")
    if not capacity.lstrip("-").isdigit():
        raise InvalidArgument("capacity", "must be a whole number")
    status = _enums("status", c.get("status", "") or "active", m.PeerStatus)
    return m.Peer(
        peer_id=c.get("peer_id", ""),
        display_name=c.get("display_name", ""),
        types=_enums("types", c.get("types", ""), m.PeerType),
        certifications=_list(c.get("certifications", "")),
        languages=_list(c.get("languages", "")),
        cultures=_list(c.get("cultures", "")),
        gender=c.get("gender", ""),
        lived_experience=_list(c.get("lived_experience", "")),
        pathways=_list(c.get("pathways", "")),
        modalities=_enums("modalities", c.get("modalities", ""), m.Modality),
        service_area=c.get("service_area", ""),
        age_groups=_enums("age_groups", c.get("age_groups", ""), m.AgeBand),
        time_zone=c.get("time_zone", ""),
        availability=_windows(c.get("availability", "")),
        capacity=int(capacity),
        status=next(iter(status)) if len(status) == 1 else m.PeerStatus.ACTIVE,
        supervisor_id=c.get("supervisor_id", ""),
    )
