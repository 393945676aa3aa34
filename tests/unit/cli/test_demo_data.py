"""The synthetic demo data: deterministic, clearly fictional, and it holds what it promises.

The roster is checked with the matcher's own CSV parser and the intakes with
its own matching engine (both pure code), so "unmatchable" means unmatchable.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import yaml

from alongside.cli.demo_data import DemoData, generate, intake_yaml, roster_csv, write_files
from alongside.cli.demo_directory import groups_csv
from alongside.cli.intake_file import request_from_doc
from alongside.matcher.domain.group_offers import offer_groups
from alongside.matcher.domain.roster_index import RosterIndex
from alongside.matcher.domain.shortlist import shortlist
from alongside.matcher.domain.validation import validate_request
from alongside.matcher.domain.weights import Weights
from alongside.matcher.mappers import request_in
from alongside.matcher.service.group_csv import parse_groups
from alongside.matcher.service.roster_csv import parse_roster

TODAY = date(2027, 3, 1)
NOW = datetime(2027, 3, 3, 15, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def data() -> DemoData:
    return generate(seed=7, today=TODAY)


def test_the_same_seed_gives_the_same_files_and_another_seed_does_not(data: DemoData) -> None:
    again = generate(seed=7, today=TODAY)
    assert roster_csv(again.peers) == roster_csv(data.peers)
    assert [intake_yaml(i) for i in again.intakes] == [intake_yaml(i) for i in data.intakes]
    other = generate(seed=8, today=TODAY)
    assert roster_csv(other.peers) != roster_csv(data.peers)


def test_the_default_size_and_mix_of_peers(data: DemoData) -> None:
    assert len(data.peers) == 200 and len(data.intakes) == 60
    types = Counter(t for p in data.peers for t in p.types)
    assert set(types) == {"recovery_coach", "peer_specialist", "peer_navigator", "youth_peer", "family_peer"}
    assert min(types.values()) >= 20
    languages = Counter(code for p in data.peers for code in p.languages)
    assert set(languages) == {"en", "es", "so", "vi", "ar", "ase"}
    assert len({p.time_zone for p in data.peers}) >= 4
    assert len({p.capacity for p in data.peers}) >= 4
    assert {"deaf", "somali", "latino"} <= {c for p in data.peers for c in p.cultures}
    assert {"active", "on_leave"} <= {p.status for p in data.peers}


def test_every_language_and_type_is_there_even_in_a_small_roster() -> None:
    small = generate(seed=1, peers=8, intakes=1, today=TODAY)
    assert {code for p in small.peers for code in p.languages} == {"en", "es", "so", "vi", "ar", "ase"}
    assert len({t for p in small.peers for t in p.types}) == 5


def test_names_are_clearly_fictional_and_refs_pseudonymous(data: DemoData) -> None:
    assert all(re.fullmatch(r"Demo Peer \d{3} \(fictional\)", p.display_name) for p in data.peers)
    assert len({p.peer_id for p in data.peers}) == len(data.peers)
    assert all(re.fullmatch(r"demo-p-\d{4}", i.ref) for i in data.intakes)
    assert all(i.doc["participant"]["ref"] == i.ref for i in data.intakes)


def test_the_intakes_include_urgent_youth_family_and_unmatchable_cases(data: DemoData) -> None:
    kinds = Counter(i.kind for i in data.intakes)
    assert kinds["urgent"] >= 5 and kinds["youth"] >= 3 and kinds["family"] >= 3 and kinds["unmatchable"] == 5
    for intake in data.intakes:
        if intake.kind == "urgent":
            assert intake.doc["urgency"] == "urgent"
        if intake.kind == "youth":
            assert intake.doc["participant"]["age_band"] == "youth" and "youth_peer" in intake.doc["peer_types"]
        if intake.kind == "family":
            assert intake.doc["peer_types"] == ["family_peer"]
            assert intake.doc["participant"]["age_band"] in ("child", "youth")


def test_the_roster_is_valid_for_the_matcher(data: DemoData) -> None:
    peers, errors = parse_roster(roster_csv(data.peers).encode())
    assert not errors
    assert len(peers) == 200


def test_every_intake_file_reads_back_as_the_same_request(data: DemoData) -> None:
    for intake in data.intakes:
        loaded = yaml.safe_load(intake_yaml(intake))
        assert loaded == intake.doc
        validate_request(request_in("req-1", request_from_doc(loaded, f"k{intake.number}")))
    assert all(i.doc["consent"]["expires_at"] == "2028-02-29" for i in data.intakes)


UNMATCHABLE_BY = ["language", "availability", "certification", "modality", "age_rules"]


def test_unmatchable_intakes_are_refused_by_the_engine_for_the_stated_reason(data: DemoData) -> None:
    peers, _ = parse_roster(roster_csv(data.peers).encode())
    index = RosterIndex(peers)
    outcomes = {}
    for intake in data.intakes:
        request = validate_request(request_in(f"req-{intake.number}", request_from_doc(intake.doc, "k")))
        result = shortlist(index, request, k=5, weights=Weights(), now=NOW)
        outcomes[intake.number] = (intake.kind, result)
    refused = [r.reason.constraint for kind, r in outcomes.values() if kind == "unmatchable" and r.reason]
    assert refused == UNMATCHABLE_BY
    assert all(not r.candidates for kind, r in outcomes.values() if kind == "unmatchable")
    others = [r for kind, r in outcomes.values() if kind != "unmatchable"]
    assert sum(1 for r in others if r.candidates) >= 0.8 * len(others)


def test_files_are_written_where_asked(tmp_path: Path) -> None:
    written = write_files(generate(seed=3, peers=5, intakes=2, today=TODAY), tmp_path / "demo")
    assert [p.relative_to(tmp_path).as_posix() for p in written] == [
        "demo/roster.csv",
        "demo/groups.csv",
        "demo/intakes/intake-001.yaml",
        "demo/intakes/intake-002.yaml",
    ]
    assert written[2].read_text().startswith("# Demo intake 001 (fictional): urgent")


def test_the_demo_directory_are_valid_and_most_intakes_are_offered_some(data: DemoData) -> None:
    groups, errors = parse_groups(groups_csv().encode())
    assert not errors
    assert len({g.pathway for g in groups}) >= 8
    offered = spread = 0
    for intake in data.intakes:
        request = validate_request(request_in(f"req-{intake.number}", request_from_doc(intake.doc, "k")))
        offers = offer_groups(groups, request, frozenset(), n=3, now=NOW)
        offered += bool(offers)
        spread += len({o.group.pathway for o in offers}) == 3
    assert offered >= 0.75 * len(data.intakes) and spread >= len(data.intakes) // 3, (offered, spread)
