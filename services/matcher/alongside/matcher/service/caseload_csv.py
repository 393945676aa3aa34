"""Caseload CSV: one active match per row. A bad row is reported with its
line, field and reason and is left out; the good rows go on to the import.

Columns (header row required, in any order): peer_id, participant_ref,
acuity, start_date. ``participant_ref`` is the programme's pseudonymous
reference (an id: letters, digits, ``. _ : -``), never a name or a record
number; ``acuity`` is in the units of the peers' capacity (1-100);
``start_date`` is when the match began (YYYY-MM-DD), not in the future.
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.kit.errors import InvalidArgument
from alongside.matcher.domain.caseload import CaseloadRow
from alongside.matcher.domain.validation import MAX_ACUITY
from alongside.matcher.domain.validation_rules import check_id

COLUMNS = ("peer_id", "participant_ref", "acuity", "start_date")
MAX_ROWS = 10_000
DUPLICATE = "this peer and participant appear on an earlier row"
OLDEST = timedelta(days=366 * 30)  # a start date further back is a typo


def parse_caseload(data: bytes, today: date) -> tuple[list[CaseloadRow], list[pb.RowError]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidArgument("csv", "must be UTF-8 text") from None
    reader = csv.reader(io.StringIO(text))
    header = [h.strip() for h in next(reader, [])]
    _check_header(header)
    rows: list[CaseloadRow] = []
    errors: list[pb.RowError] = []
    seen: set[str] = set()
    for number, cells in enumerate(reader, start=2):
        if number - 1 > MAX_ROWS:
            raise InvalidArgument("csv", f"must hold at most {MAX_ROWS} rows")
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            reason = f"has {len(cells)} fields, the header has {len(header)}"
            errors.append(pb.RowError(line=number, field="row", reason=reason))
            continue
        try:
            row = _row(number, dict(zip(header, (c.strip() for c in cells), strict=True)), today)
        except InvalidArgument as exc:
            errors.append(pb.RowError(line=number, field=exc.field, reason=exc.message.split(": ", 1)[-1]))
            continue
        if row.pair in seen:
            errors.append(pb.RowError(line=number, field="participant_ref", reason=DUPLICATE))
            continue
        seen.add(row.pair)
        rows.append(row)
    return rows, errors


def _check_header(header: list[str]) -> None:
    if len(header) == 1 and any(mark in header[0] for mark in ";\t"):
        raise InvalidArgument("csv", "the header is one column: save the file with commas between columns")
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise InvalidArgument("csv", f"the header lacks the column(s): {', '.join(missing)}")
    unknown = [c for c in header if c not in COLUMNS]
    if unknown:
        raise InvalidArgument("csv", f"unknown column(s): {', '.join(unknown)}; known: {', '.join(COLUMNS)}")


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
