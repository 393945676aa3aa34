"""Existing caseloads: the CSV rules and which rows become matches (pure)."""

from __future__ import annotations

from datetime import date

import pytest

from alongside.kit.errors import InvalidArgument
from alongside.matcher.domain.caseload import CaseloadRow, pair_key, plan_import
from alongside.matcher.service.caseload_csv import parse_caseload

TODAY = date(2027, 3, 3)


def row(line: int, peer: str, ref: str, acuity: int) -> CaseloadRow:
    return CaseloadRow(line, peer, ref, acuity, date(2026, 1, 1))


def test_rows_are_decided_in_order_against_capacity_and_load() -> None:
    rows = [row(2, "a", "r1", 2), row(3, "a", "r2", 2), row(4, "a", "r3", 1), row(5, "b", "r4", 1)]
    plan = plan_import(rows, {"a": 4, "b": 1}, {"a": 1, "b": 0}, frozenset())
    assert [r.line for r in plan.accepted] == [2, 4, 5]
    assert [(r.line, r.field) for r in plan.refused] == [(3, "acuity")]
    assert plan.refused[0].reason == "would over-fill peer a: load 3 + acuity 2 exceeds capacity 4"
    assert plan.added_load == {"a": 3, "b": 1}


def test_unknown_peers_are_refused_and_known_pairs_skipped() -> None:
    rows = [row(2, "a", "r1", 1), row(3, "ghost", "r2", 1)]
    plan = plan_import(rows, {"a": 5}, {}, frozenset({pair_key("a", "r1")}))
    assert plan.accepted == [] and plan.already_imported == 1
    assert [(r.line, r.field) for r in plan.refused] == [(3, "peer_id")]


def test_a_pair_key_names_no_reference() -> None:
    key = pair_key("peer-1", "ref-secret")
    assert "ref-secret" not in key and key != pair_key("peer-1", "ref-secre") and len(key) == 32


def test_the_csv_reports_each_bad_field_by_line() -> None:
    text = (
        "start_date,acuity,participant_ref,peer_id\n"  # any column order
        "2026-01-02,3,r-1,p1\n"
        "2026-13-02,3,r-2,p1\n"
        "2026-01-02,3,r 3,p1\n"
        "2026-01-02,-1,r-4,p1\n"
        "1990-01-02,1,r-5,p1\n"
        "2026-01-02,1,r-1,p1\n"
    )
    rows, errors = parse_caseload(text.encode(), TODAY)
    assert [(r.line, r.peer_id, r.participant_ref, r.acuity, r.start_date) for r in rows] == [
        (2, "p1", "r-1", 3, date(2026, 1, 2))
    ]
    assert [(e.line, e.field) for e in errors] == [
        (3, "start_date"),
        (4, "participant_ref"),
        (5, "acuity"),
        (6, "start_date"),
        (7, "participant_ref"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        b"",
        b"peer_id,participant_ref,acuity\n",
        b"peer_id,participant_ref,acuity,start_date,notes\n",
        b"peer_id\tparticipant_ref\tacuity\tstart_date\n",
    ],
)
def test_a_bad_header_refuses_the_file(text: bytes) -> None:
    with pytest.raises(InvalidArgument) as info:
        parse_caseload(text, TODAY)
    assert info.value.field == "csv"
