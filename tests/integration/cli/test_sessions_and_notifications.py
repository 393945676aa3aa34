"""Sessions, calendar, notifications and the planner, against all three services."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from alongside.api.scheduler.v1 import scheduler_pb2 as spb
from alongside.api.scheduler.v1 import scheduler_pb2_grpc
from alongside.kit.testing.auth import channel as auth_channel
from alongside.kit.testing.processes import as_terminal_job
from alongside.kit.testing.wait import eventually

from .conftest import ROSTER, Stack, no_traceback, submit, write

NEW_YORK = ZoneInfo("America/New_York")


async def accepted_session(stack: Stack, tmp_path: Path) -> dict[str, Any]:
    """Import, submit, accept p-es; return the session the scheduler booked by itself."""
    assert (await stack.run("roster", "import", str(write(tmp_path / "roster.csv", ROSTER)))).exit_code == 0
    request_id = await submit(stack, tmp_path)
    match = await stack.json("match", "accept", request_id, "p-es")
    found: list[dict[str, Any]] = []

    async def booked() -> bool:
        found[:] = (await stack.json("sessions", "list", "--peer", "p-es"))["sessions"]
        return bool(found)

    await eventually(booked, timeout=15, what="the first session")
    assert found[0]["match_id"] == match["match_id"]
    return found[0]


async def inbox(stack: Stack, peer_id: str) -> list[dict[str, Any]]:
    return list((await stack.json("notifications", "list", peer_id))["notifications"])


async def test_an_accepted_match_shows_its_session_calendar_and_notifications(
    full_stack: Stack, tmp_path: Path
) -> None:
    session = await accepted_session(full_stack, tmp_path)
    assert session["status"] == "SESSION_STATUS_BOOKED" and session["participant_ref"] == "demo-p-0001"
    listed = await full_stack.run("sessions", "list", "--participant", "demo-p-0001")
    assert "intake" in listed.stdout and "booked" in listed.stdout
    assert "-05:00" in listed.stdout or "-04:00" in listed.stdout  # New York time, either side of DST
    ics = await full_stack.run("calendar", "export", "p-es")
    assert ics.stdout.startswith("BEGIN:VCALENDAR") and "BEGIN:VEVENT" in ics.stdout
    assert b"\r\n" in ics.stdout_bytes  # RFC 5545 line ends reach the file as sent
    written = await full_stack.run("calendar", "export", "p-es", "-o", str(tmp_path / "p-es.ics"))
    assert written.exit_code == 0 and (tmp_path / "p-es.ics").read_text().startswith("BEGIN:VCALENDAR")
    assert "1 sessions" in written.stderr

    async def told() -> bool:
        return {n["kind"] for n in await inbox(full_stack, "p-es")} >= {"KIND_ASSIGNMENT_NEW", "KIND_SESSION_BOOKED"}

    await eventually(told, timeout=15, what="assignment and booking in the inbox")
    table = await full_stack.run("notifications", "list", "p-es")
    assert "You have a new assignment in Alongside" in table.stdout and "inbox sent" in table.stdout
    # A page is not the inbox: "1 of N" and how to get the next page.
    total = len(await inbox(full_stack, "p-es"))
    one = await full_stack.run("notifications", "list", "p-es", "--limit", "1")
    assert f"Inbox of p-es (1 of {total})" in one.stdout
    assert f"Showing 1 of {total}. Next page: the same command with --page-token " in one.stderr
    page = await full_stack.json("notifications", "list", "p-es", "--limit", "1")
    assert page["total"] == total and page["next_page_token"]
    rest = await full_stack.json("notifications", "list", "p-es", "--page-token", page["next_page_token"])
    assert len(rest["notifications"]) == total - 1 and rest["next_page_token"] == ""
    ids = [n["notification_id"] for n in page["notifications"] + rest["notifications"]]
    assert len(set(ids)) == total


async def test_tail_follows_the_inbox_live(full_stack: Stack, tmp_path: Path) -> None:
    session = await accepted_session(full_stack, tmp_path)
    await eventually(lambda: _has_items(full_stack, 2), timeout=15, what="two inbox items")
    newest = (await inbox(full_stack, "p-es"))[0]["notification_id"]
    tail = asyncio.create_task(
        full_stack.run("--json", "notifications", "tail", "p-es", "--after", newest, "--count", "1")
    )
    # Changed behind the CLI's back (one CLI runs at a time here): the tail must see it.
    address = full_stack.env["ALONGSIDE_SCHEDULER"]
    assert address is not None
    async with auth_channel(address) as channel:
        await scheduler_pb2_grpc.SchedulerServiceStub(channel).CancelSession(
            spb.CancelSessionRequest(
                idempotency_key="t-cancel", session_id=session["session_id"],
                reason=spb.CANCEL_REASON_PEER_UNAVAILABLE, override_notice=True,
            )
        )  # fmt: skip
    result = await asyncio.wait_for(tail, 20)
    no_traceback(result)
    item = json.loads(result.stdout.splitlines()[0])
    assert item["kind"] == "KIND_SESSION_CANCELLED" and item["peer_id"] == "p-es"


async def _has_items(stack: Stack, count: int) -> bool:
    return len(await inbox(stack, "p-es")) >= count


async def test_book_reschedule_and_cancel_a_series(full_stack: Stack, tmp_path: Path) -> None:
    await accepted_session(full_stack, tmp_path)
    start = _next_weekday_at(15)
    booked = await full_stack.json(
        "sessions", "book", "--peer", "p-en", "--participant", "demo-p-0009", "--type", "follow_up",
        "--start", start.strftime("%Y-%m-%dT%H:%M"), "--tz", "America/New_York", "--weekly", "2",
    )  # fmt: skip
    series = booked["sessions"]
    assert len(series) == 2 and all(x["session_type"] == "follow_up" for x in series)
    first = series[0]
    moved_to = start + timedelta(days=7, hours=1)
    moved = await full_stack.json(
        "sessions", "reschedule", first["session_id"], "--to", moved_to.strftime("%Y-%m-%dT%H:%M"),
        "--tz", "America/New_York", "--override-notice",
    )  # fmt: skip
    assert moved["sessions"][0]["peer_local_start"].startswith(moved_to.strftime("%Y-%m-%dT%H:%M"))
    cancelled = await full_stack.json(
        "sessions", "cancel", moved["sessions"][0]["session_id"], "--reason", "participant_request", "--override-notice"
    )
    assert cancelled["sessions"][0]["status"] == "SESSION_STATUS_CANCELLED"
    refused = await full_stack.run("sessions", "cancel", first["session_id"], "--reason", "rescheduled")
    assert refused.exit_code == 2 and "--reason: must be one of participant_request" in refused.stderr


async def test_plan_week_proposes(full_stack: Stack) -> None:
    plan = await full_stack.json("plan", "week", "--time-limit", "1", "--tz", "America/New_York")
    assert {"placements", "unplaced", "solver_status", "gap"} <= plan.keys()
    table = await full_stack.run("plan", "week", "--time-limit", "1")
    assert "Week plan (proposal: add --commit to book it)" in table.stdout


def _next_weekday_at(hour: int) -> datetime:
    """A weekday at least two days ahead, at ``hour`` in New York (inside p-en's hours)."""
    day = datetime.now(NEW_YORK) + timedelta(days=2)
    while day.weekday() >= 4:  # Friday's +7 days move stays a weekday; keep it simple: Monday to Thursday
        day += timedelta(days=1)
    return day.replace(hour=hour, minute=0, second=0, microsecond=0)


async def test_tail_ends_with_a_friendly_message_when_the_notifier_stops(full_stack: Stack) -> None:
    tail = asyncio.create_task(full_stack.run("notifications", "tail", "p-es", "--last", "0"))
    notifier = full_stack.runtimes.pop()  # started last; stopped here, not again at teardown
    await notifier.stop()
    result = await asyncio.wait_for(tail, 20)
    no_traceback(result)
    assert result.exit_code == 3
    assert "the notifier at" in result.stderr


@pytest.mark.serial  # Ctrl-C ends it within seconds
async def test_ctrl_c_on_tail_exits_130(full_stack: Stack) -> None:
    """The real console script in its own process, started and interrupted as
    a terminal would (Ctrl-C reaches it even when the suite runs as a background job)."""
    env = {k: v for k, v in {**os.environ, **full_stack.env}.items() if v is not None}
    tail = [sys.executable, "-m", "alongside.cli", "notifications", "tail", "p-nobody", "--last", "0"]
    command = as_terminal_job(tail)
    proc = await asyncio.create_subprocess_exec(
        *command, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    assert proc.stderr is not None
    line = await asyncio.wait_for(proc.stderr.readline(), 30)
    assert b"Ctrl-C stops" in line
    proc.send_signal(signal.SIGINT)
    code = await asyncio.wait_for(proc.wait(), 15)
    rest = (await proc.stderr.read()).decode()
    assert code == 130, rest
    # (A SIGINT that lands during the hint's flush may write that line again.)
    assert rest.endswith("stopped.\n") and "Traceback" not in rest, rest
