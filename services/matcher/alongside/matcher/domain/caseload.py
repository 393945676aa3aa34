"""Existing caseloads: which imported rows become matches (pure).

A programme that moves to Alongside brings its active matches with it, one
row per match. Rows are decided in file order against the peers' capacity
(acuity units) and their loads at the moment of the import: a row that
would over-fill its peer is refused on its own, as a bad roster row is, and
the rows after it still count against what is left. A (peer, participant)
pair that an earlier import brought in is skipped, so running the same file
twice changes nothing the second time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True, slots=True)
class CaseloadRow:
    line: int  # in the CSV, the header being line 1
    peer_id: str
    participant_ref: str
    acuity: int
    start_date: date

    @property
    def pair(self) -> str:
        return pair_key(self.peer_id, self.participant_ref)


@dataclass(frozen=True, slots=True)
class RowRefusal:
    line: int
    field: str
    reason: str  # ids and numbers only, never the participant reference


@dataclass
class ImportPlan:
    accepted: list[CaseloadRow] = field(default_factory=list)
    already_imported: int = 0
    refused: list[RowRefusal] = field(default_factory=list)
    added_load: dict[str, int] = field(default_factory=dict)  # peer id -> acuity units added


def pair_key(peer_id: str, participant_ref: str) -> str:
    """What marks a pair as imported; a digest, so no key names the reference."""
    return hashlib.sha256(f"{peer_id}\x1f{participant_ref}".encode()).hexdigest()[:32]


def plan_import(
    rows: Sequence[CaseloadRow],
    capacity: Mapping[str, int],
    loads: Mapping[str, int],
    imported: frozenset[str],
) -> ImportPlan:
    """Decide each row in order. ``capacity`` holds the peers on the roster,
    ``loads`` their loads now, ``imported`` the pair keys imported before."""
    plan = ImportPlan()
    for row in rows:
        if row.pair in imported:
            plan.already_imported += 1
            continue
        if row.peer_id not in capacity:
            plan.refused.append(RowRefusal(row.line, "peer_id", "no peer with this id is on the roster"))
            continue
        load = loads.get(row.peer_id, 0) + plan.added_load.get(row.peer_id, 0)
        if load + row.acuity > capacity[row.peer_id]:
            reason = (
                f"would over-fill peer {row.peer_id}: load {load} + acuity {row.acuity}"
                f" exceeds capacity {capacity[row.peer_id]}"
            )
            plan.refused.append(RowRefusal(row.line, "acuity", reason))
            continue
        plan.accepted.append(row)
        plan.added_load[row.peer_id] = plan.added_load.get(row.peer_id, 0) + row.acuity
    return plan
