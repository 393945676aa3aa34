"""Split a roster CSV into chunks for ImportRoster, keeping file line numbers.

The matcher reports a bad row by its line inside what it was sent; sending
the file in chunks (one call each, so the progress bar moves) means mapping
those lines back to the file's. A peer id repeated in a later chunk is
caught here, since no single call sees both rows.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from alongside.cli.errors import CliError, ExitCode


@dataclass(frozen=True)
class RowProblem:
    line: int
    field: str
    reason: str


@dataclass(frozen=True)
class Chunk:
    csv: bytes
    # File line on which each data row starts, in the order sent.
    lines: tuple[int, ...]

    def file_line(self, sent_line: int) -> int:
        """The matcher's line (header = 1, first row = 2) -> the file's line."""
        index = sent_line - 2
        return self.lines[index] if 0 <= index < len(self.lines) else sent_line


@dataclass(frozen=True)
class Split:
    chunks: tuple[Chunk, ...]
    rows: int
    problems: tuple[RowProblem, ...] = field(default=())


def read_roster(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise CliError(f"{path}: no such file — check the path", ExitCode.BAD_INPUT) from None
    except UnicodeDecodeError:
        raise CliError(f"{path}: is not UTF-8 text — save the CSV as UTF-8 and try again", ExitCode.BAD_INPUT) from None
    except OSError as exc:
        raise CliError(f"{path}: cannot be read ({type(exc).__name__}) — check the path", ExitCode.BAD_INPUT) from None


def split_roster(text: str, chunk_rows: int) -> Split:
    """Header plus up to ``chunk_rows`` rows per chunk; later duplicates of a peer id are held back."""
    if chunk_rows < 1:
        raise CliError("--chunk-size must be at least 1", ExitCode.BAD_INPUT)
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header or not any(h.strip() for h in header):
        raise CliError("the CSV is empty: it needs a header row (see docs/cli.md)", ExitCode.BAD_INPUT)
    names = [h.strip() for h in header]
    id_column = names.index("peer_id") if "peer_id" in names else None
    rows: list[tuple[int, list[str]]] = []
    problems: list[RowProblem] = []
    first_seen: dict[str, int] = {}
    start = reader.line_num + 1
    for row in reader:
        line, start = start, reader.line_num + 1
        if not any(cell.strip() for cell in row):
            continue
        peer_id = row[id_column].strip() if id_column is not None and id_column < len(row) else ""
        if peer_id and peer_id in first_seen:
            problems.append(RowProblem(line, "peer_id", f"repeats the peer on line {first_seen[peer_id]}"))
            continue
        first_seen.setdefault(peer_id, line)
        rows.append((line, row))
    chunks = [_chunk(header, rows[i : i + chunk_rows]) for i in range(0, len(rows), chunk_rows)]
    return Split(tuple(chunks) or (_chunk(header, []),), len(rows) + len(problems), tuple(problems))


def _chunk(header: list[str], rows: list[tuple[int, list[str]]]) -> Chunk:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(row for _, row in rows)
    return Chunk(buffer.getvalue().encode("utf-8"), tuple(line for line, _ in rows))
