"""How a group session is stored: JSON holding its series as ``codec`` stores one."""

from __future__ import annotations

import json

from alongside.scheduler.adapters.codec import decode_series, encode_series
from alongside.scheduler.domain.groups import Group, Modality


def encode_group(group: Group) -> bytes:
    data = {
        "host": group.host_peer_id,
        "co": group.co_facilitator_peer_id,
        "cap": group.capacity,
        "modality": group.modality.value,
        "series": json.loads(encode_series(group.series)),
    }
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


def decode_group(raw: bytes) -> Group:
    d = json.loads(raw)
    series = decode_series(json.dumps(d["series"]).encode())
    return Group(
        id=series.id,
        host_peer_id=d["host"],
        co_facilitator_peer_id=d["co"],
        capacity=d["cap"],
        modality=Modality(d["modality"]),
        series=series,
    )
