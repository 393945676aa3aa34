"""``alongside caseload import`` against a real matcher."""

from __future__ import annotations

from pathlib import Path

from .conftest import Stack, imported, no_traceback, write

CASELOAD = (
    "peer_id,participant_ref,acuity,start_date\n"
    "p-es,cl-ref-0001,1,2026-01-15\n"
    "p-es,cl-ref-0002,1,2026-02-01\n"
    "p-es,cl-ref-0003,1,2026-02-03\n"  # p-es has capacity 2: over-fills
    "p-nobody,cl-ref-0004,1,2026-02-03\n"
    "p-en,cl-ref-0005,one,2026-02-03\n"
)


async def test_caseload_import_dry_run_then_import_then_again(matcher_only: Stack, tmp_path: Path) -> None:
    await imported(matcher_only, tmp_path)
    path = write(tmp_path / "caseload.csv", CASELOAD)
    dry = await matcher_only.run("caseload", "import", str(path), "--dry-run")
    no_traceback(dry)
    assert dry.exit_code == 2, dry.output
    assert "would import 2 matches" in dry.stdout and "dry run" in dry.stdout
    peers = {p["peer_id"]: p for p in (await matcher_only.json("roster", "list"))["peers"]}
    assert peers["p-es"].get("load", 0) == 0

    result = await matcher_only.run("caseload", "import", str(path))
    no_traceback(result)
    assert result.exit_code == 2
    assert "imported 2 matches" in result.stdout
    lines = {line.split("│")[1].strip(): line for line in result.stdout.splitlines() if line.count("│") >= 4}
    assert "acuity" in lines["4"] and "over-fill" in lines["4"]
    assert "peer_id" in lines["5"]
    assert "acuity" in lines["6"]
    assert "cl-ref" not in result.stdout  # problems name lines and fields, never the participant
    peers = {p["peer_id"]: p for p in (await matcher_only.json("roster", "list"))["peers"]}
    assert peers["p-es"]["load"] == 2

    good = write(tmp_path / "good.csv", "\n".join(CASELOAD.splitlines()[:3]) + "\n")
    again = await matcher_only.json("caseload", "import", str(good))
    assert (again["imported"], again["already_imported"], again["errors"]) == (0, 2, [])


async def test_caseload_import_of_a_missing_file_says_so(matcher_only: Stack, tmp_path: Path) -> None:
    result = await matcher_only.run("caseload", "import", str(tmp_path / "nope.csv"))
    no_traceback(result)
    assert result.exit_code == 2 and "no such file" in result.output
