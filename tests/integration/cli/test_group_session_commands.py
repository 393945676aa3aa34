"""``alongside groups host|hosted|enrol|withdraw|attendance|roster|cancel``
against the real services."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from alongside.kit.testing.wait import eventually

from .conftest import ROSTER, Stack, no_traceback, write

NEW_YORK = ZoneInfo("America/New_York")


async def test_host_enrol_withdraw_roster_and_cancel(full_stack: Stack, tmp_path: Path) -> None:
    assert (await full_stack.run("roster", "import", str(write(tmp_path / "roster.csv", ROSTER)))).exit_code == 0
    first = (datetime.now(NEW_YORK) + timedelta(days=7)).strftime("%Y-%m-%d 18:00")
    host = ("groups", "host", "--peer", "p-es", "--capacity", "1", "--modality", "video", "--start", first)
    command = (
        *host,
        "--tz",
        "America/New_York",
        "--weekly",
        "4",
        "--co-facilitator",
        "p-en",
        "--idempotency-key",
        "g-1",
    )
    created: list[dict[str, object]] = []

    async def hosted() -> bool:  # once the scheduler has both calendars from the roster
        result = await full_stack.run("--json", *command)
        if result.exit_code == 0:
            created[:] = json.loads(result.stdout)["groups"]
        return bool(created)

    await eventually(hosted, timeout=15, what="the group hosted")
    group_id = str(created[0]["group_id"])
    table = await full_stack.run("groups", "hosted", "--peer", "p-en")
    assert group_id in table.stdout and "0/1" in table.stdout and "video" in table.stdout

    one = await full_stack.json("groups", "enrol", group_id, "--participant", "ref-a")
    assert one["enrolments"][0]["status"] == "ENROLMENT_STATUS_ENROLLED"
    two = await full_stack.run("groups", "enrol", group_id, "--participant", "ref-b")
    assert "waiting" in two.stdout and "ref-b" in two.stdout
    again = await full_stack.run("groups", "enrol", group_id, "--participant", "ref-b")
    assert again.exit_code != 0 and "already on the waiting list" in again.output
    no_traceback(again)

    out = await full_stack.run("groups", "withdraw", group_id, "--participant", "ref-a")
    assert "promoted from the waiting list" in out.stdout and "ref-b" in out.stdout
    roster = await full_stack.json("groups", "roster", group_id)
    assert [(e["participant_ref"], e["status"]) for e in roster["enrolments"]] == [
        ("ref-b", "ENROLMENT_STATUS_ENROLLED"),
        ("ref-a", "ENROLMENT_STATUS_WITHDRAWN"),
    ]
    early = await full_stack.run("groups", "attendance", group_id, "--participant", "ref-b", "--meeting", "0")
    assert early.exit_code != 0 and "has not begun" in early.output
    bad = await full_stack.run(
        "groups",
        "host",
        "--peer",
        "p-es",
        "--capacity",
        "1",
        "--modality",
        "carrier-pigeon",
        "--start",
        first,
        "--weekly",
        "2",
    )
    assert bad.exit_code != 0 and "--modality" in bad.output
    cancelled = await full_stack.run("groups", "cancel", group_id)
    assert cancelled.exit_code == 0 and "cancelled" in cancelled.stdout
