"""Roster, intake, match and batch commands against a real matcher."""

from __future__ import annotations

from pathlib import Path

from .conftest import INTAKE, ROSTER, Stack, imported, no_traceback, submit, write


async def test_roster_import_reports_bad_rows_by_their_file_line(matcher_only: Stack, tmp_path: Path) -> None:
    bad = ROSTER + (
        "p-bad,Demo Peer Bad (fictional),recovery_coach,en,,phone,adult,America/New_York,mon 09:00-12:00,lots\n"
        "p-es,Demo Peer Again (fictional),recovery_coach,en,,phone,adult,America/New_York,mon 09:00-12:00,1\n"
        "p-tz,Demo Peer TZ (fictional),recovery_coach,en,,phone,adult,Mars/Base,mon 09:00-12:00,1\n"
    )
    # Two rows per call: line numbers must still be the file's.
    result = await matcher_only.run("roster", "import", str(write(tmp_path / "r.csv", bad)), "--chunk-size", "2")
    no_traceback(result)
    assert result.exit_code == 2
    assert "imported 2 of 5" in result.stdout
    lines = {line.split("│")[1].strip(): line for line in result.stdout.splitlines() if line.count("│") >= 4}
    assert "capacity" in lines["4"] and "whole number" in lines["4"]
    assert "peer_id" in lines["5"] and "line 2" in lines["5"]
    assert "time_zone" in lines["6"]
    listed = await matcher_only.json("roster", "list")
    assert sorted(p["peer_id"] for p in listed["peers"]) == ["p-en", "p-es"]


async def test_roster_csv_messages_say_what_is_wrong(matcher_only: Stack, tmp_path: Path) -> None:
    header, es, _ = ROSTER.splitlines()
    short = "p-short,Demo Peer Short (fictional),recovery_coach,en,"  # 5 fields of 10
    odd_type = es.replace("p-es,", "p-odd,").replace("recovery_coach", "sponsor")
    csv_file = write(tmp_path / "r.csv", f"{header}\n{short}\n{odd_type}\n")
    result = await matcher_only.run("roster", "import", str(csv_file))
    no_traceback(result)
    assert result.exit_code == 2
    lines = {line.split("│")[1].strip(): line for line in result.stdout.splitlines() if line.count("│") >= 4}
    assert "│ row │ has 5 fields, the header has 10 │" in " ".join(lines["2"].split())
    assert "capacity" not in lines["2"]
    odd = " ".join(lines["3"].split())
    assert "types" in odd and "recovery_coach, peer_specialist, peer_navigator, youth_peer, family_peer" in odd
    semicolons = write(tmp_path / "semi.csv", header.replace(",", ";") + "\n" + es.replace(",", ";") + "\n")
    result = await matcher_only.run("roster", "import", str(semicolons))
    no_traceback(result)
    assert result.exit_code == 2
    assert "separated by semicolons" in result.stderr and "lacks the column" not in result.stderr


async def test_roster_list_filters_and_show(matcher_only: Stack, tmp_path: Path) -> None:
    await imported(matcher_only, tmp_path)
    spanish = await matcher_only.json("roster", "list", "--language", "es")
    assert [p["peer_id"] for p in spanish["peers"]] == ["p-es"]
    table = await matcher_only.run("roster", "list", "--type", "recovery coach")
    assert "Demo Peer EN (fictional)" in table.stdout and "0/2" in table.stdout
    shown = await matcher_only.run("roster", "show", "p-es")
    assert "mon 09:00-17:00" in shown.stdout and "latino" in shown.stdout
    wrong = await matcher_only.run("roster", "list", "--type", "wizard")
    assert wrong.exit_code == 2 and "--type: must be one of recovery_coach" in wrong.stderr


async def test_intake_prints_the_shortlist_with_explanations(matcher_only: Stack, tmp_path: Path) -> None:
    await imported(matcher_only, tmp_path)
    result = await matcher_only.run("intake", "submit", str(write(tmp_path / "i.yaml", INTAKE)))
    no_traceback(result)
    assert result.exit_code == 0, result.output
    assert "shortlisted" in result.stdout and "why this peer" in result.stdout
    assert "Speaks Spanish" in result.stdout  # the explanation, not just a score
    assert result.stdout.index("p-es") < result.stdout.index("p-en")
    assert "match accept" in result.stderr  # the next step, on stderr


async def test_intake_from_flags_that_nobody_fits_says_why(matcher_only: Stack, tmp_path: Path) -> None:
    await imported(matcher_only, tmp_path)
    flags = ["--ref", "demo-p-0002", "--tz", "America/Chicago", "--availability", "tue 10:00-12:00; thu 10:00-12:00"]
    result = await matcher_only.run(
        "intake", "submit", *flags, "--peer-type", "recovery_coach", "--require", "languages=ti"
    )
    assert result.exit_code == 0, result.output
    assert "waitlisted" in result.stdout and "No peer fits yet" in result.stdout
    assert "Tigrinya: 0 of 2" in result.stdout
    waiting = await matcher_only.json("intake", "waitlist")
    assert len(waiting["requests"]) == 1
    assert waiting["requests"][0]["waitlist_reason"]["funnel"]


async def test_decline_accept_and_close(matcher_only: Stack, tmp_path: Path) -> None:
    await imported(matcher_only, tmp_path)
    request_id = await submit(matcher_only, tmp_path)
    declined = await matcher_only.json("match", "decline", request_id, "p-es")
    assert [c["peer_id"] for c in declined["candidates"]] == ["p-en"]
    again = await matcher_only.run("match", "accept", request_id, "p-es")
    assert again.exit_code == 1 and "cannot do that now: this peer was declined" in again.stderr
    twice = await matcher_only.run("match", "decline", request_id, "p-es")
    assert twice.exit_code == 1 and "this peer was already declined for this request" in twice.stderr


async def test_declining_a_peer_who_is_not_a_candidate_says_why(matcher_only: Stack, tmp_path: Path) -> None:
    await imported(matcher_only, tmp_path)
    request_id = await submit(matcher_only, tmp_path)
    nobody = await matcher_only.run("match", "decline", request_id, "no-such-peer")
    no_traceback(nobody)
    assert nobody.exit_code == 1 and nobody.stdout == ""
    assert nobody.stderr.startswith("error: not found: peer not found — `alongside roster list` shows the peer ids")
    # A peer on the roster but not on this request's shortlist: a peer navigator; the intake asks for a coach.
    other = ROSTER.splitlines()[2].replace("p-en,Demo Peer EN", "p-off,Demo Peer OFF")
    other = other.replace("recovery_coach", "peer_navigator")
    write(tmp_path / "more.csv", ROSTER.splitlines()[0] + "\n" + other + "\n")
    assert (await matcher_only.run("roster", "import", str(tmp_path / "more.csv"))).exit_code == 0
    shortlist = await matcher_only.json("intake", "show", request_id)
    assert "p-off" not in [c["peer_id"] for c in shortlist["candidates"]]
    off = await matcher_only.run("match", "decline", request_id, "p-off")
    assert off.exit_code == 1 and "this peer is not on this request's shortlist" in off.stderr
    after = await matcher_only.json("intake", "show", request_id)
    assert after["declined_peer_ids"] == []
    accepted = await matcher_only.run("match", "accept", request_id, "p-en", "--idempotency-key", "acc-1")
    assert accepted.exit_code == 0, accepted.output
    match = await matcher_only.json("match", "accept", request_id, "p-en", "--idempotency-key", "acc-1")  # replay
    assert match["status"] == "MATCH_STATUS_ACTIVE" and match["peer_id"] == "p-en"
    closed = await matcher_only.json("match", "close", match["match_id"], "--reason", "completed")
    assert closed["status"] == "MATCH_STATUS_CLOSED" and closed["close_reason"] == "CLOSE_REASON_COMPLETED"
    twice = await matcher_only.run("match", "close", match["match_id"], "--reason", "completed")
    no_traceback(twice)
    assert twice.exit_code == 1 and "already closed" in twice.stderr
    missing = await matcher_only.run("match", "show", "m-nope")
    assert missing.exit_code == 1 and "not found: match not found" in missing.stderr


async def test_batch_run_then_confirm(matcher_only: Stack, tmp_path: Path) -> None:
    await imported(matcher_only, tmp_path)
    ids = [await submit(matcher_only, tmp_path, f"demo-p-000{i}") for i in range(1, 5)]
    request_flags = [flag for i in ids for flag in ("--request", i)]
    run = await matcher_only.json("batch", "run", *request_flags, "--time-limit", "2")
    assert len(run["proposals"]) == 3  # p-es has room for 2, p-en for 1
    assert len(run["unmatched_request_ids"]) == 1 and run["solver_status"] == "OPTIMAL"
    human = await matcher_only.run("batch", "run", *request_flags, "--time-limit", "2")
    assert "matched (proposed)" in human.stdout and "gap" in human.stdout and "batch confirm" in human.stderr
    confirmed = await matcher_only.run("batch", "confirm", run["batch_id"])
    assert confirmed.exit_code == 0, confirmed.output
    assert "Confirmed (3)" in confirmed.stdout
    # Again, with a new idempotency key: one clear message, exit 0, nothing changes.
    again = await matcher_only.run("batch", "confirm", run["batch_id"])
    no_traceback(again)
    assert again.exit_code == 0, again.output
    assert f"Batch {run['batch_id']} was already confirmed on " in again.stdout and "nothing to do (3)" in again.stdout
    assert "Not confirmed" not in again.stdout and "stay open" not in again.stderr
    assert "no longer open" not in again.output
    repeat = await matcher_only.json("batch", "confirm", run["batch_id"])
    assert repeat["matches"] == [] and repeat["failures"] == [] and len(repeat["already_confirmed"]) == 3
    listed = await matcher_only.json("roster", "list")
    assert {p["peer_id"]: p["load"] for p in listed["peers"]} == {"p-en": 1, "p-es": 2}


async def test_invalid_input_from_the_service_names_the_field(matcher_only: Stack, tmp_path: Path) -> None:
    await imported(matcher_only, tmp_path)
    bad = INTAKE.replace("America/New_York", "Mars/Base")
    result = await matcher_only.run("--json", "intake", "submit", str(write(tmp_path / "bad.yaml", bad)))
    no_traceback(result)
    assert result.exit_code == 2
    expected = '"message": "invalid input (INVALID_ARGUMENT): participant.time_zone: must be a known IANA time zone'
    assert expected in result.stderr
    assert '"code": "INVALID_ARGUMENT"' in result.stderr and result.stdout == ""


async def test_list_titles_say_how_many_of_how_many(matcher_only: Stack, tmp_path: Path) -> None:
    header, *rows = ROSTER.splitlines()
    more = [rows[1].replace("p-en,Demo Peer EN", f"p-x{i},Demo Peer X{i}") for i in range(3)]
    write(tmp_path / "five.csv", "\n".join([header, *rows, *more]) + "\n")
    assert (await matcher_only.run("roster", "import", str(tmp_path / "five.csv"))).exit_code == 0
    page = await matcher_only.run("roster", "list", "--limit", "2")
    assert page.exit_code == 0, page.output
    assert "Peers (2 of 5)" in page.stdout
    assert "Showing 2 of 5. Next page: the same command with --page-token " in page.stderr
    token = page.stderr.split("--page-token ")[1].split()[0]
    following = await matcher_only.json("roster", "list", "--limit", "2", "--page-token", token)
    first = await matcher_only.json("roster", "list", "--limit", "2")
    assert first["total"] == 5 and first["next_page_token"] == token
    assert following["total"] == 3 and len(following["peers"]) == 2
    assert not {p["peer_id"] for p in first["peers"]} & {p["peer_id"] for p in following["peers"]}
    everything = await matcher_only.run("roster", "list")
    assert "Peers (5)" in everything.stdout and "Next page" not in everything.stderr
    waiting = await matcher_only.run("intake", "waitlist", "--limit", "1")
    assert "Waiting list (0)" in waiting.stdout


async def test_the_participant_ref_has_one_name_in_errors(matcher_only: Stack, tmp_path: Path) -> None:
    missing = await matcher_only.run(
        "intake", "submit", str(write(tmp_path / "none.yaml", INTAKE.replace("  ref: demo-p-0001\n", "")))
    )
    invalid = await matcher_only.run(
        "intake", "submit", str(write(tmp_path / "bad.yaml", INTAKE.replace("demo-p-0001", "'has spaces'")))
    )
    flags = await matcher_only.run(
        "intake", "submit", "--ref", "has spaces", "--tz", "America/New_York",
        "--availability", "mon 09:00-12:00", "--peer-type", "recovery_coach",
    )  # fmt: skip
    for result in (missing, invalid, flags):
        no_traceback(result)
        assert result.exit_code == 2, result.output
        assert "participant.ref: " in result.stderr and "participant_ref" not in result.stderr, result.stderr
