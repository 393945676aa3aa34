"""The intake YAML and the submit flags -> SubmitMatchRequestRequest."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from alongside.api.common.v1 import types_pb2
from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.cli.errors import CliError, ExitCode
from alongside.cli.intake import merge_flags
from alongside.cli.intake_file import file_field, load_file, request_from_doc

EXAMPLE = Path(__file__).parents[3] / "docs" / "examples" / "intake.yaml"


def minimal(**extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "participant": {"ref": "demo-p-1", "time_zone": "America/Chicago", "availability": ["mon 09:00-12:00"]},
        "peer_types": ["recovery_coach"],
    }
    doc.update(extra)
    return doc


def test_the_documented_example_maps_field_by_field() -> None:
    req = request_from_doc(load_file(EXAMPLE), "key-1")
    assert req.idempotency_key == "key-1"
    p = req.participant
    assert (p.participant_ref, p.age_band, p.time_zone, p.service_area) == (
        "demo-p-0042", pb.AGE_BAND_ADULT, "America/Chicago", "north",
    )  # fmt: skip
    assert [(w.day, w.start_minute, w.end_minute) for w in p.availability] == [
        (types_pb2.DAY_OF_WEEK_MONDAY, 540, 720), (types_pb2.DAY_OF_WEEK_THURSDAY, 810, 1020),
    ]  # fmt: skip
    assert list(req.peer_types) == [pb.PEER_TYPE_RECOVERY_COACH, pb.PEER_TYPE_PEER_NAVIGATOR]
    prefs = req.preferences
    assert (list(prefs.languages.values), prefs.languages.strength) == (["so"], pb.STRENGTH_REQUIRED)
    assert (list(prefs.cultures.values), prefs.cultures.strength) == (["somali"], pb.STRENGTH_PREFERRED)
    assert list(prefs.modalities.values) == [pb.MODALITY_PHONE, pb.MODALITY_VIDEO]
    assert (req.urgency, req.acuity, req.session_minutes, req.shortlist_size) == (pb.URGENCY_PRIORITY, 2, 60, 5)
    assert req.consent.scope == "peer-support-matching"
    assert req.consent.expires_at.ToDatetime(tzinfo=UTC).year == 2030


def test_defaults_and_shorthands() -> None:
    req = request_from_doc(minimal(preferences={"certifications": ["cprs"]}), "k")
    assert (req.participant.age_band, req.urgency, req.acuity) == (pb.AGE_BAND_ADULT, pb.URGENCY_ROUTINE, 1)
    # A certification can only be required, so its bare list is required.
    assert req.preferences.certifications.strength == pb.STRENGTH_REQUIRED
    assert not req.HasField("consent")
    dated = request_from_doc(minimal(consent={"scope": "s", "expires_at": datetime(2031, 1, 1, 12, tzinfo=UTC)}), "k")
    assert dated.consent.expires_at.ToDatetime(tzinfo=UTC) == datetime(2031, 1, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (minimal(urgncy="urgent"), "intake: unknown key(s) urgncy; allowed: participant,"),
        (minimal(preferences={"language": ["es"]}), "preferences: unknown key(s) language"),
        ({"peer_types": ["recovery_coach"]}, "participant: is required"),
        ({"participant": "demo-p-1"}, "participant: must be a mapping"),
        (minimal(participant={"time_zone": "UTC", "availability": []}), "participant.ref: is required"),
        (minimal(peer_types=[]), "peer_types: must list at least one of recovery_coach"),
        (minimal(acuity="two"), "acuity: must be a whole number"),
        (minimal(acuity=True), "acuity: must be a whole number"),
        (minimal(preferences={"languages": {"values": ["so"], "strength": "must"}}),
         "preferences.languages.strength: must be one of required, preferred"),
        (minimal(preferences={"modalities": ["carrier pigeon"]}), "preferences.modalities.values[0]: must be one of"),
        (minimal(peer_types=["recovery_coach", "wizard"]), "peer_types[1]: must be one of"),
    ],
)  # fmt: skip
def test_mistakes_name_the_field_first(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(CliError) as info:
        request_from_doc(doc, "k")
    assert info.value.message.startswith(message)
    assert info.value.exit_code == ExitCode.BAD_INPUT


def test_file_problems_are_clear_input_errors(tmp_path: Path) -> None:
    with pytest.raises(CliError, match="no such file — check the path") as info:
        load_file(tmp_path / "missing.yaml")
    assert info.value.exit_code == ExitCode.BAD_INPUT
    broken = tmp_path / "broken.yaml"
    broken.write_text("participant:\n  ref: [unclosed\n  time_zone: UTC\n")
    with pytest.raises(CliError, match=r"at line \d+, column \d+ — fix the YAML"):
        load_file(broken)
    listed = tmp_path / "list.yaml"
    listed.write_text("- a\n- b\n")
    with pytest.raises(CliError, match="must be a YAML mapping"):
        load_file(listed)


def test_flags_lay_over_the_file() -> None:
    doc = minimal(preferences={"cultures": ["somali"]}, urgency="routine")
    merged = merge_flags(
        doc,
        {"ref": "demo-p-2", "age_band": None, "availability": [], "interpreter_needed": True},
        {"urgency": "urgent", "peer_types": None},
        require=["languages=so, ar"],
        prefer=["pathways=smart"],
    )
    req = request_from_doc(merged, "k")
    assert req.participant.participant_ref == "demo-p-2" and req.participant.interpreter_needed
    assert len(req.participant.availability) == 1  # an empty flag list leaves the file's windows
    assert req.urgency == pb.URGENCY_URGENT and list(req.peer_types) == [pb.PEER_TYPE_RECOVERY_COACH]
    assert list(req.preferences.languages.values) == ["so", "ar"]
    assert req.preferences.languages.strength == pb.STRENGTH_REQUIRED
    assert list(req.preferences.cultures.values) == ["somali"]
    assert req.preferences.pathways.strength == pb.STRENGTH_PREFERRED
    assert doc["urgency"] == "routine"  # the file's document is not changed


def test_a_malformed_require_flag_says_how_to_write_it() -> None:
    with pytest.raises(CliError, match=r"^--require: must look like languages=so"):
        merge_flags({}, {}, {}, ["languages"], [])


def test_yaml_round_trip_keeps_the_request() -> None:
    doc = minimal(preferences={"languages": {"values": ["es"], "strength": "preferred"}})
    again = yaml.safe_load(yaml.safe_dump(doc))
    assert request_from_doc(again, "k") == request_from_doc(doc, "k")


@pytest.mark.parametrize(
    ("service", "file"),
    [
        ("participant.participant_ref", "participant.ref"),
        ("excluded_peer_ids[2]", "excluded_peers[2]"),
        ("previous_peer_id", "previous_peer"),
        ("participant.time_zone", "participant.time_zone"),
        ("participant.participant_reference", "participant.participant_reference"),
    ],
)
def test_the_matchers_field_names_read_as_the_files(service: str, file: str) -> None:
    assert file_field(service) == file


def test_group_pathways_read_as_enum_names_and_a_bad_one_names_its_place() -> None:
    req = request_from_doc(minimal(group_pathways=["smart_recovery", "recovery dharma"]), "k")
    assert list(req.group_pathways) == [pb.GROUP_PATHWAY_SMART_RECOVERY, pb.GROUP_PATHWAY_RECOVERY_DHARMA]
    with pytest.raises(CliError, match=r"group_pathways\[1\]"):
        request_from_doc(minimal(group_pathways=["twelve_step", "yoga"]), "k")
