"""``alongside groups import|list|show`` against a real matcher."""

from __future__ import annotations

from pathlib import Path

from .conftest import INTAKE, Stack, imported, no_traceback, write

GROUPS = (
    "group_id,name,pathway,languages,modalities,area,time_zone,meetings,accessibility,audiences\n"
    "cg-1,Tuesday Fellowship,twelve_step,en,video,,America/New_York,tue 19:00-20:30,,\n"
    "cg-2,Hall Group,smart_recovery,en;es,in_person,Kent,America/New_York,thu 18:00-19:00,Step-free access,adults\n"
    "cg-3,No Zone,recovery_dharma,en,video,,,tue 10:00-11:00,,\n"
)


async def test_groups_import_dry_run_then_import_list_and_show(matcher_only: Stack, tmp_path: Path) -> None:
    path = write(tmp_path / "groups.csv", GROUPS)
    dry = await matcher_only.run("groups", "import", str(path), "--dry-run")
    no_traceback(dry)
    assert dry.exit_code == 2, dry.output
    assert "would import 2 groups" in dry.stdout and "dry run" in dry.stdout
    assert (await matcher_only.json("groups", "list"))["groups"] == []

    result = await matcher_only.run("groups", "import", str(path))
    no_traceback(result)
    assert result.exit_code == 2 and "imported 2 groups" in result.stdout
    lines = {line.split("│")[1].strip(): line for line in result.stdout.splitlines() if line.count("│") >= 4}
    assert "time_zone" in lines["4"]

    listed = await matcher_only.run("groups", "list")
    no_traceback(listed)
    assert "Tuesday Fellowship" in listed.stdout and "smart recovery" in listed.stdout
    smart = await matcher_only.json("groups", "list", "--pathway", "smart_recovery")
    assert [g["group_id"] for g in smart["groups"]] == ["cg-2"]
    in_person = await matcher_only.json("groups", "list", "--modality", "in-person")
    assert [g["group_id"] for g in in_person["groups"]] == ["cg-2"]
    adults = await matcher_only.json("groups", "list", "--audience", "adults")
    assert [g["group_id"] for g in adults["groups"]] == ["cg-1", "cg-2"], "adults also finds groups naming none"
    families = await matcher_only.json("groups", "list", "--audience", "families")
    assert families["groups"] == []

    shown = await matcher_only.run("groups", "show", "cg-2")
    no_traceback(shown)
    assert shown.exit_code == 0
    assert "Step-free access" in shown.stdout and "thu 18:00-19:00" in shown.stdout and "kent" in shown.stdout


async def test_groups_show_of_an_unknown_group_and_a_bad_pathway_say_so(matcher_only: Stack) -> None:
    missing = await matcher_only.run("groups", "show", "cg-none")
    no_traceback(missing)
    assert missing.exit_code != 0 and "not found" in missing.output
    bad = await matcher_only.run("groups", "list", "--pathway", "yoga")
    no_traceback(bad)
    assert bad.exit_code == 2 and "--pathway" in bad.output
    for flag, value in (("--modality", "text"), ("--modality", "carrier_pigeon"), ("--audience", "everyone")):
        refused = await matcher_only.run("groups", "list", flag, value)
        no_traceback(refused)
        assert refused.exit_code == 2 and flag in refused.output, (flag, value, refused.output)


OFFERED = (
    "group_id,name,pathway,languages,modalities,time_zone,meetings\n"
    "co-1,Monday Fellowship,twelve_step,en,video,America/New_York,mon 10:00-11:00\n"
    "co-2,Monday SMART,smart_recovery,es,phone,America/New_York,mon 10:30-11:30\n"
    "co-3,Wednesday Dharma,recovery_dharma,en,video,America/New_York,wed 14:00-15:00\n"
)


async def test_intake_submit_shows_the_groups_offered_and_honours_a_pathway_flag(
    matcher_only: Stack, tmp_path: Path
) -> None:
    await imported(matcher_only, tmp_path)
    assert (await matcher_only.run("groups", "import", str(write(tmp_path / "g.csv", OFFERED)))).exit_code == 0
    intake = write(tmp_path / "i.yaml", INTAKE)
    result = await matcher_only.run("intake", "submit", str(intake))
    no_traceback(result)
    assert result.exit_code == 0, result.output
    assert "Community groups offered" in result.stdout and "why this group" in result.stdout
    assert all(name in result.stdout for name in ("Monday Fellowship", "Monday SMART", "Wednesday Dharma"))
    assert "Meets in Spanish (preferred language)" in result.stdout
    chosen = await matcher_only.json(
        "intake", "submit", str(intake), "--ref", "demo-p-0002", "--group-pathway", "smart_recovery"
    )
    assert [o["group_id"] for o in chosen["request"]["group_offers"]] == ["co-2"]
