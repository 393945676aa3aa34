"""``alongside demo`` end to end against the three services and a local SMTP sink.

With --json the steps still render (into muted consoles), so this one run
covers the human rendering paths too; the summary's numbers are checked.
"""

from __future__ import annotations

import json

from .conftest import Stack, no_traceback


async def test_the_demo_runs_the_whole_journey(full_stack: Stack) -> None:
    assert full_stack.sink is not None
    sink = full_stack.sink.folder
    assert sink is not None
    result = await full_stack.run(
        "--json", "demo", "--peers", "24", "--intakes", "12", "--accept", "3", "--wait", "15", "--time-limit", "2",
        env={"ALONGSIDE_SMTP_SINK_DIR": str(sink)},
    )  # fmt: skip
    no_traceback(result)
    assert result.exit_code == 0, result.output
    facts = json.loads(result.stdout)
    assert (facts["peers_imported"], facts["peers_rejected"], facts["intakes"]) == (24, 0, 12)
    assert facts["shortlisted"] + facts["waitlisted"] == 12 and facts["waitlisted"] >= 1  # the unmatchable one
    assert facts["groups_imported"] == 18 and facts["offered_groups"] >= 6  # community groups beside the shortlists
    assert facts["accepted"] == 3 and facts["closed"] == 1
    assert facts["first_session_booked"] is True
    assert facts["inbox_items"] >= 2  # the assignment and the booked session
    assert facts["emails"] >= 1
    assert facts["inbox_pending_deliveries"] == 0  # the inbox table shows the settled state, as the emails do
    assert facts["batch_matched"] >= 1 and facts["batch_failures"] == 0 and facts["still_waiting"] >= 1
    assert facts["solver"] in ("OPTIMAL", "FEASIBLE")
    assert (facts["group_enrolled"], facts["group_waiting"]) == (1, 1)  # a group session, one seat, one waiting
    mails = [p.read_text(errors="replace") for p in sink.glob("*.eml")]
    assert any("@example.org" in m for m in mails)
    assert not any("Demo Peer" in m or "demo-p-" in m for m in mails)  # no names or participant refs by email


async def test_after_the_demo_the_dashboard_has_figures(full_stack: Stack) -> None:
    """The demo's data fills the dashboard: `alongside stats` prints non-empty aggregates."""
    demo = await full_stack.run("--json", "demo", "--peers", "24", "--intakes", "12", "--accept", "3", "--wait", "15",
                                "--time-limit", "2")  # fmt: skip
    assert demo.exit_code == 0, demo.output
    result = await full_stack.run("--json", "stats", "--weeks", "2")
    no_traceback(result)
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    programme, sessions = figures["programme"], figures["sessions"]
    assert sum(int(w["submitted"]["value"]) for w in programme["waiting"]) >= 12
    assert programme["caseload"]["active_peers"] >= 1 and int(programme["caseload"]["load_units"]) >= 4
    assert any(g["dimension"] == "language" for g in programme["equity"])
    assert any(int(w["booked"]["value"]) or w["booked"]["suppressed"] for w in sessions["sessions"])
    assert "demo-p-" not in result.stdout and "Demo Peer" not in result.stdout
    human = await full_stack.run("stats")
    assert human.exit_code == 0 and "Waiting list" in human.stdout and "Equity" in human.stdout, human.output
