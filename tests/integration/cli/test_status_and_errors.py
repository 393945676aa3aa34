"""``status``, and what a user sees when a service cannot be reached."""

from __future__ import annotations

import json

from .conftest import Stack, no_traceback


async def test_status_reports_every_component_up(full_stack: Stack) -> None:
    result = await full_stack.run("--json", "status")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["ok"] is True
    states = {c["component"]: (c["up"], c["state"]) for c in report["components"]}
    assert states == {
        "matcher": (True, "serving"),
        "scheduler": (True, "serving"),
        "notifier": (True, "serving"),
        "nats": (True, "up"),
        "redis": (True, "up"),
    }
    table = await full_stack.run("status")
    assert "JetStream on" in table.stdout and "answered in" in table.stdout


async def test_status_exits_1_and_says_which_service_is_down(matcher_only: Stack) -> None:
    result = await matcher_only.run("status")
    no_traceback(result)
    assert result.exit_code == 1
    scheduler = next(line for line in result.stdout.splitlines() if line.startswith("│ scheduler"))
    assert "down" in scheduler and "cannot reach the scheduler" in scheduler
    assert "make run" in result.stderr


async def test_an_unreachable_matcher_gets_a_friendly_message(matcher_only: Stack) -> None:
    down = matcher_only.env["ALONGSIDE_SCHEDULER"]  # no server there
    assert down is not None
    for args in (("roster", "list"), ("match", "accept", "req-1", "p-1"), ("intake", "waitlist")):
        result = await matcher_only.run(*args, env={"ALONGSIDE_MATCHER": down})
        no_traceback(result)
        assert result.exit_code == 3, args
        assert result.stderr == f"error: cannot reach the matcher at {down} — is `make run` running?" \
            " (set ALONGSIDE_MATCHER if it listens elsewhere)\n"  # fmt: skip
        assert result.stdout == ""


async def test_a_bad_address_setting_is_named(matcher_only: Stack) -> None:
    result = await matcher_only.run("roster", "list", env={"ALONGSIDE_MATCHER": "localhost"})
    assert result.exit_code == 2
    assert "ALONGSIDE_MATCHER must look like host:port" in result.stderr
