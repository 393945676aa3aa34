"""Caseload CSV: one active match per row. A bad row is reported with its
line, field and reason and is left out; the good rows go on to the import.

Columns (header row required, in any order): peer_id, participant_ref,
acuity, start_date. ``participant_ref`` is the programme's pseudonymous
reference (an id: letters, digits, ``. _ : -``), never a name or a record
number; ``acuity`` is in the units of the peers' capacity (1-100);
``start_date`` is when the match began (YYYY-MM-DD), not in the future.
"""

from __future__ import annotations

from datetime import date, timedelta

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.kit.errors import InvalidArgument
from alongside.matcher.domain.caseload import CaseloadRow
from alongside.matcher.domain.validation import MAX_ACUITY
from alongside.matcher.domain.validation_rules import check_id
from alongside.matcher.service.csv_table import read_table

COLUMNS = ("peer_id", "participant_ref", "acuity", "start_date")
MAX_ROWS = 10_000
DUPLICATE = "this peer and participant appear on an earlier row"
OLDEST = timedelta(days=366 * 30)  # a start date further back is a typo


def parse_caseload(data: bytes, today: date) -> tuple[list[CaseloadRow], list[pb.RowError]]:
    return read_table(
        data,
        columns=COLUMNS,
        required=COLUMNS,
        max_rows=MAX_ROWS,
        make=lambda cells, line: _row(line, cells, today),
        key=lambda row: row.pair,
        key_field="participant_ref",
        duplicate=DUPLICATE,
    )


def _row(line: int, c: dict[str, str], today: date) -> CaseloadRow:
    check_id("peer_id", c["peer_id"])
    check_id("participant_ref", c["participant_ref"])
    if not c["acuity"].isascii() or not c["acuity"].isdigit() or not 1 <= int(c["acuity"]) <= MAX_ACUITY:
        raise InvalidArgument("acuity", f"must be a whole number between 1 and {MAX_ACUITY}")
    try:
        start = date.fromisoformat(c["start_date"]) if len(c["start_date"]) == 10 else None
    except ValueError:
        start = None
    if start is None:
        raise InvalidArgument("start_date", "must be a date written YYYY-MM-DD")
    if start > today:
        raise InvalidArgument("start_date", "is in the future: import matches that have started")
    if start < today - OLDEST:
        raise InvalidArgument("start_date", "is more than 30 years ago")
    return CaseloadRow(line, c["peer_id"], c["participant_ref"], int(c["acuity"]), start)
