"""Splitting a roster CSV into chunks while keeping the file's line numbers."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from alongside.cli.errors import CliError, ExitCode
from alongside.cli.roster_file import read_roster, split_roster

HEADER = "peer_id,display_name,capacity\n"


def rows(chunk_csv: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(chunk_csv.decode())))


def test_chunks_carry_the_header_and_map_lines_back() -> None:
    text = HEADER + "a,A,1\nb,B,2\nc,C,3\n"
    split = split_roster(text, 2)
    assert split.rows == 3 and len(split.chunks) == 2
    first, second = split.chunks
    assert rows(first.csv) == [["peer_id", "display_name", "capacity"], ["a", "A", "1"], ["b", "B", "2"]]
    assert rows(second.csv)[0] == ["peer_id", "display_name", "capacity"]
    # The matcher numbers the header 1 and the chunk's first row 2.
    assert (first.file_line(2), first.file_line(3), second.file_line(2)) == (2, 3, 4)


def test_quoted_line_breaks_and_blank_lines_keep_physical_line_numbers() -> None:
    text = HEADER + 'a,"two\nlines",1\n\nb,B,2\n'
    split = split_roster(text, 10)
    (chunk,) = split.chunks
    assert chunk.lines == (2, 5)
    assert rows(chunk.csv)[1] == ["a", "two\nlines", "1"]


def test_a_peer_repeated_in_a_later_chunk_is_held_back_with_its_first_line() -> None:
    split = split_roster(HEADER + "a,A,1\nb,B,1\na,Again,1\n", 1)
    assert [c.lines for c in split.chunks] == [(2,), (3,)]
    (problem,) = split.problems
    assert (problem.line, problem.field, problem.reason) == (4, "peer_id", "repeats the peer on line 2")
    assert split.rows == 3


def test_a_header_only_file_still_sends_one_chunk_and_an_empty_file_is_refused() -> None:
    assert len(split_roster(HEADER, 5).chunks) == 1
    with pytest.raises(CliError, match="needs a header row") as info:
        split_roster("", 5)
    assert info.value.exit_code == ExitCode.BAD_INPUT
    with pytest.raises(CliError, match="--chunk-size"):
        split_roster(HEADER, 0)


def test_files_that_cannot_be_read_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(CliError, match="no such file"):
        read_roster(tmp_path / "missing.csv")
    latin = tmp_path / "latin1.csv"
    latin.write_bytes("peer_id\nJos\xe9\n".encode("latin-1"))
    with pytest.raises(CliError, match="is not UTF-8 text — save the CSV as UTF-8"):
        read_roster(latin)
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbfpeer_id\na\n")
    assert read_roster(bom).startswith("peer_id")
