"""The command line itself, with no service running: help, input errors, exit codes."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import typer
from typer.testing import CliRunner, Result

from alongside.cli.app import app
from alongside.cli.plan import next_monday

RUNNER = CliRunner()
# Nothing listens on port 9: any call that did reach the network would fail differently.
ENV: dict[str, str | None] = {
    "ALONGSIDE_MATCHER": "127.0.0.1:9",
    "ALONGSIDE_JSON": None,
    "ALONGSIDE_TIMEOUT": None,
    "COLUMNS": "200",
}


def run(*args: str) -> Result:
    return RUNNER.invoke(app, list(args), env=ENV)


def no_traceback(result: Result) -> None:
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception


@pytest.mark.parametrize(
    "group", ["roster", "intake", "match", "batch", "sessions", "calendar", "notifications", "plan"]
)
def test_every_group_has_help(group: str) -> None:
    result = run(group, "--help")
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_the_root_lists_every_command() -> None:
    result = run("--help")
    for name in ("status", "roster", "intake", "match", "batch", "sessions", "calendar", "notifications", "plan",
                 "demo", "demo-data"):  # fmt: skip
        assert name in result.output


def test_a_missing_intake_file_exits_2_with_a_clear_message(tmp_path: Path) -> None:
    result = run("intake", "submit", str(tmp_path / "nope.yaml"))
    no_traceback(result)
    assert result.exit_code == 2
    assert result.stderr == f"error: {tmp_path / 'nope.yaml'}: no such file — check the path\n"


def test_bad_yaml_exits_2_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("participant:\n  ref: demo-p-1\n   time_zone: UTC\n")
    result = run("intake", "submit", str(path))
    no_traceback(result)
    assert result.exit_code == 2 and "line 3" in result.stderr


def test_an_intake_mistake_is_caught_before_any_call(tmp_path: Path) -> None:
    path = tmp_path / "i.yaml"
    path.write_text("participant: {ref: demo-p-1, time_zone: UTC, availability: ['mon 9am']}\npeer_types: [coach]\n")
    result = run("intake", "submit", str(path))
    assert result.exit_code == 2
    assert result.stderr.startswith("error: participant.availability[0]: must look like 'mon 09:00-12:00'")


def test_submit_without_a_file_or_flags_says_what_to_give() -> None:
    result = run("intake", "submit")
    assert result.exit_code == 2
    assert "give a YAML file (see docs/examples/intake.yaml) or flags such as --ref" in result.stderr


def test_a_missing_roster_file_exits_2(tmp_path: Path) -> None:
    result = run("roster", "import", str(tmp_path / "roster.csv"))
    no_traceback(result)
    assert result.exit_code == 2 and "no such file" in result.stderr


def test_a_usage_mistake_exits_2() -> None:
    result = run("match", "close", "m-1")  # --reason is required
    assert result.exit_code == 2


def test_demo_data_writes_files(tmp_path: Path) -> None:
    result = run("--json", "demo-data", "--out", str(tmp_path / "d"), "--peers", "4", "--intakes", "3")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "d" / "roster.csv").read_text().startswith("peer_id,display_name,types")
    assert len(list((tmp_path / "d" / "intakes").glob("*.yaml"))) == 3


def test_next_monday_is_the_coming_week_start() -> None:
    zone = ZoneInfo("America/Chicago")
    assert next_monday(datetime(2027, 3, 3, 15, tzinfo=zone)) == datetime(2027, 3, 8, tzinfo=zone)
    assert next_monday(datetime(2027, 3, 8, 0, tzinfo=zone)) == datetime(2027, 3, 8, tzinfo=zone)
    assert next_monday(datetime(2027, 3, 8, 9, tzinfo=zone)) == datetime(2027, 3, 15, tzinfo=zone)


def test_a_missing_option_is_one_line_as_documented() -> None:
    result = run("token", "issue", "--sub", "staff-7")
    no_traceback(result)
    assert result.exit_code == 2
    assert result.stderr == "error: Missing option '--role'. — see `alongside token issue --help`\n"
    assert "╭" not in result.output and result.stdout == ""


def test_a_bad_option_value_is_one_json_object_with_json() -> None:
    result = run("--json", "roster", "list", "--limit", "many")
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    error = json.loads(lines[0])["error"]
    assert error["exit_code"] == 2 and error["code"] == "USAGE" and "'--limit'" in error["message"]


def test_an_unknown_command_is_one_line() -> None:
    result = run("rooster", "list")
    assert result.exit_code == 2 and result.stderr.startswith("error: No such command 'rooster'.")
    assert len(result.stderr.splitlines()) == 1


def command_paths() -> list[tuple[str, ...]]:
    paths: list[tuple[str, ...]] = []

    def walk(command: Any, path: tuple[str, ...]) -> None:
        subs = getattr(command, "commands", {})
        if not subs:
            paths.append(path)
        for name, sub in subs.items():
            walk(sub, (*path, name))

    walk(typer.main.get_command(app), ())
    return paths


@pytest.mark.parametrize("path", command_paths(), ids=lambda p: " ".join(p) or "alongside")
def test_help_has_no_type_placeholders_and_every_option_says_what_it_does(path: tuple[str, ...]) -> None:
    result = run(*path, "--help")
    assert result.exit_code == 0, result.output
    usage = next(line for line in result.stdout.splitlines() if "Usage:" in line)
    assert "{" not in usage and "}" not in usage, usage
    assert "<bool>" not in result.stdout
    rows = [line for line in result.stdout.splitlines() if line.startswith("│") and "--" in line]
    for row in rows:
        words = row.strip("│ ").split()
        # An option row: the option, maybe a type, then its help; a row of only names has no help.
        assert any(not w.startswith(("--", "-", "<")) for w in words[1:]), row


def test_version() -> None:
    result = run("--version")
    assert result.exit_code == 0
    assert result.stdout.startswith("alongside ") and result.stdout.strip().split()[1][0].isdigit()
