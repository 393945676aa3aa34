"""The CSV machinery the imports share (roster, community groups, caseloads).

A header row names the columns (any order; unknown ones are refused); each
later row becomes one record through ``make`` (its cells and its line). A bad row is reported with
its line, field and reason and left out; the good rows are kept. A record
whose key appeared on an earlier row is reported too. List cells hold items
separated by ``;``; weekly windows read ``mon 09:00-12:00; thu 13:30-17:00``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import TypeVar

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.kit.errors import InvalidArgument
from alongside.matcher.domain import model as m

R = TypeVar("R")
E = TypeVar("E", bound=StrEnum)
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WINDOW = re.compile(r"^(\w{3})\w*\s+(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")


def read_table(
    data: bytes,
    *,
    columns: Sequence[str],
    required: Sequence[str],
    max_rows: int,
    make: Callable[[dict[str, str], int], R],
    key: Callable[[R], str],
    key_field: str,
    duplicate: str = "appears on an earlier row",
) -> tuple[list[R], list[pb.RowError]]:
    """The good records of a CSV and the row errors of the others."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidArgument("csv", "must be UTF-8 text") from None
    reader = csv.reader(io.StringIO(text))
    header = [h.strip() for h in next(reader, [])]
    check_header(header, columns, required)
    records: list[R] = []
    errors: list[pb.RowError] = []
    seen: set[str] = set()
    for number, row in enumerate(reader, start=2):
        if number - 1 > max_rows:
            raise InvalidArgument("csv", f"must hold at most {max_rows} rows")
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            reason = f"has {len(row)} fields, the header has {len(header)}"
            errors.append(pb.RowError(line=number, field="row", reason=reason))
            continue
        cells = {name: value.strip() for name, value in zip(header, row, strict=True)}
        try:
            record = make(cells, number)
        except InvalidArgument as exc:
            errors.append(pb.RowError(line=number, field=exc.field, reason=exc.message.split(": ", 1)[-1]))
            continue
        if key(record) in seen:
            errors.append(pb.RowError(line=number, field=key_field, reason=duplicate))
            continue
        seen.add(key(record))
        records.append(record)
    return records, errors


def check_header(header: list[str], columns: Sequence[str], required: Sequence[str]) -> None:
    if len(header) == 1:
        for name, mark in (("semicolons", ";"), ("tabs", "\t")):
            if mark in header[0]:
                raise InvalidArgument(
                    "csv",
                    f"the header is one column with {name} in it: the file seems separated by {name};"
                    " save it with commas between columns (';' separates the items inside a cell)",
                )
    missing = [c for c in required if c not in header]
    if missing:
        raise InvalidArgument("csv", f"the header lacks the column(s): {', '.join(missing)}")
    unknown = [c for c in header if c not in columns]
    if unknown:
        raise InvalidArgument("csv", f"unknown column(s): {', '.join(unknown)}; known: {', '.join(columns)}")


def items(cell: str) -> frozenset[str]:
    """A list cell's items."""
    return frozenset(part.strip() for part in cell.split(";") if part.strip())


def enums(field: str, cell: str, enum: type[E]) -> frozenset[E]:
    """A list cell of enum names, in any case, with spaces or dashes for underscores."""
    out: set[E] = set()
    for part in items(cell):
        name = part.upper().replace(" ", "_").replace("-", "_")
        if name not in enum.__members__:
            allowed = ", ".join(member.lower() for member in enum.__members__)
            raise InvalidArgument(field, f"holds an unknown value; allowed: {allowed}")
        out.add(enum[name])
    return frozenset(out)


def windows(field: str, cell: str) -> tuple[m.WeeklyWindow, ...]:
    """Weekly windows: ``mon 09:00-12:00; thu 13:30-17:00``."""
    out = []
    for part in items(cell):
        found = _WINDOW.match(part.lower())
        if not found or found.group(1) not in DAYS:
            raise InvalidArgument(field, "must look like 'mon 09:00-12:00; thu 13:30-17:00'")
        day, h1, m1, h2, m2 = found.groups()
        out.append(m.WeeklyWindow(DAYS.index(day), int(h1) * 60 + int(m1), int(h2) * 60 + int(m2)))
    return tuple(sorted(out, key=lambda w: (w.day, w.start_minute)))
