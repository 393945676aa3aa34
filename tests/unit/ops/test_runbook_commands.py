"""Every `alongside ...` command docs/operations.md tells an operator to run
is one the CLI has, with every option the runbook gives it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from alongside.cli.app import app

RUNBOOK = Path(__file__).resolve().parents[3] / "docs" / "operations.md"
# `alongside <group> <command>` and the options that follow on the same line or code span.
COMMAND = re.compile(r"\balongside ([a-z][a-z-]*(?: [a-z][a-z-]*)?)(?![\w-])((?: --[a-z-]+(?: [^\s`]+)?)*)")
NOT_THE_CLI = {"auth-pass"}  # `SENTINEL SET alongside auth-pass`: Sentinel's, with "alongside" the primary's name


def commands() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for m in COMMAND.finditer(RUNBOOK.read_text()):
        words = m[1].split()
        if words[0] in NOT_THE_CLI:
            continue
        options = set(re.findall(r"--[a-z-]+", m[2]))
        found.setdefault(" ".join(words), set()).update(options)
    return found


FOUND = commands()


def test_the_runbook_names_commands() -> None:
    assert {"streams provision", "streams backup", "streams restore", "valkey provision"} <= set(FOUND)


@pytest.mark.parametrize("command", sorted(FOUND))
def test_each_command_and_option_exists(command: str) -> None:
    words = command.split()
    result = CliRunner().invoke(app, [*words, "--help"], terminal_width=200)
    if result.exit_code != 0 or "Usage:" not in result.output:
        # "alongside status" and the like have no sub-command: the second word was prose.
        result = CliRunner().invoke(app, [words[0], "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    for option in FOUND[command]:
        assert option in result.output, f"alongside {command} has no {option}"
