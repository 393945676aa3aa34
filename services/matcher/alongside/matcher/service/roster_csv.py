"""Roster CSV: one peer per row. A bad row is reported with its line, field
and reason and is not imported; the good rows are.

Columns (header row required; list cells are separated by ``;``):
peer_id, display_name, types, certifications, languages, cultures, gender,
lived_experience, pathways, modalities, service_area, age_groups, time_zone,
availability (``mon 09:00-12:00; thu 13:30-17:00``), capacity, status,
supervisor_id. Only peer_id, types, time_zone and capacity are required.
"""

from __future__ import annotations

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.kit.errors import InvalidArgument
from alongside.matcher.domain import model as m
from alongside.matcher.domain.validation import validate_peer
from alongside.matcher.service.csv_table import enums, items, read_table, windows

COLUMNS = (
    "peer_id", "display_name", "types", "certifications", "languages", "cultures", "gender",
    "lived_experience", "pathways", "modalities", "service_area", "age_groups", "time_zone",
    "availability", "capacity", "status", "supervisor_id",
)  # fmt: skip
REQUIRED = ("peer_id", "types", "time_zone", "capacity")
MAX_ROWS = 20_000


def parse_roster(data: bytes) -> tuple[list[m.Peer], list[pb.RowError]]:
    return read_table(
        data,
        columns=COLUMNS,
        required=REQUIRED,
        max_rows=MAX_ROWS,
        make=lambda cells, _line: validate_peer(_peer(cells)),
        key=lambda peer: peer.peer_id,
        key_field="peer_id",
    )


def _peer(c: dict[str, str]) -> m.Peer:
    capacity = c.get("capacity", "")
    if not capacity.lstrip("-").isdigit():
        raise InvalidArgument("capacity", "must be a whole number")
    status = enums("status", c.get("status", "") or "active", m.PeerStatus)
    return m.Peer(
        peer_id=c.get("peer_id", ""),
        display_name=c.get("display_name", ""),
        types=enums("types", c.get("types", ""), m.PeerType),
        certifications=items(c.get("certifications", "")),
        languages=items(c.get("languages", "")),
        cultures=items(c.get("cultures", "")),
        gender=c.get("gender", ""),
        lived_experience=items(c.get("lived_experience", "")),
        pathways=items(c.get("pathways", "")),
        modalities=enums("modalities", c.get("modalities", ""), m.Modality),
        service_area=c.get("service_area", ""),
        age_groups=enums("age_groups", c.get("age_groups", ""), m.AgeBand),
        time_zone=c.get("time_zone", ""),
        availability=windows("availability", c.get("availability", "")),
        capacity=int(capacity),
        status=next(iter(status)) if len(status) == 1 else m.PeerStatus.ACTIVE,
        supervisor_id=c.get("supervisor_id", ""),
    )
