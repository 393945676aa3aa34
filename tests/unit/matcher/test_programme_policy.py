"""The programme policy document: the built-in policy is today's behaviour, and bad documents name the field."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from alongside.kit.errors import InvalidArgument
from alongside.kit.testing.auth import TEST_AUTH
from alongside.matcher.adapters.policy_file import PolicyFileError, load_policy
from alongside.matcher.domain.constraints import type_serves_age
from alongside.matcher.domain.model import AgeBand, PeerType, Strength
from alongside.matcher.domain.policy_document import policy_document
from alongside.matcher.domain.programme_policy import DEFAULT_POLICY, AgeRule, BatchWeights, ProgrammePolicy
from alongside.matcher.domain.weights import Weights
from alongside.matcher.settings import MatcherSettings

EXAMPLE = Path(__file__).parents[3] / "docs" / "examples" / "policy.yaml"
_MINORS = {AgeBand.CHILD, AgeBand.YOUTH}


def rule_before_policies(peer_type: PeerType, age: AgeBand) -> bool:
    """The age rule as constraints.py hard-coded it before programme policies."""
    if peer_type == PeerType.YOUTH_PEER and age not in (AgeBand.YOUTH, AgeBand.YOUNG_ADULT):
        return False
    return age not in _MINORS or peer_type in (PeerType.YOUTH_PEER, PeerType.FAMILY_PEER)


@pytest.mark.parametrize("peer_type", list(PeerType))
@pytest.mark.parametrize("age", list(AgeBand))
def test_the_built_in_age_rules_are_the_old_ones(peer_type: PeerType, age: AgeBand) -> None:
    assert type_serves_age(peer_type, age) is rule_before_policies(peer_type, age)
    assert DEFAULT_POLICY.serves_with(peer_type, age) == frozenset()


def test_the_built_in_policy_is_todays_behaviour() -> None:
    assert DEFAULT_POLICY.certification_strengths == {Strength.REQUIRED}
    assert DEFAULT_POLICY.weights == Weights()
    assert DEFAULT_POLICY.batch == BatchWeights(5.0, 1.0)
    assert list(DEFAULT_POLICY.batch.priority([0.0, 2.0], [3.0, -1.0])) == [3.0, 10.0]
    # No document: the settings' batch weights, nothing else changed.
    settings = MatcherSettings.from_env({}, **TEST_AUTH, batch_urgency_weight=7.0)
    assert settings.programme_policy() == replace(DEFAULT_POLICY, batch=BatchWeights(7.0, 1.0))


def test_a_document_naming_only_its_programme_keeps_the_base_policy() -> None:
    base = replace(DEFAULT_POLICY, batch=BatchWeights(6.0, 2.0))
    policy = policy_document({"programme": "north-county"}, base, source="x.yaml")
    assert policy == replace(base, programme="north-county")
    assert policy.source == "x.yaml" and policy.digest != DEFAULT_POLICY.digest


def test_the_example_document_loads() -> None:
    policy = load_policy(str(EXAMPLE), DEFAULT_POLICY)
    assert policy.programme == "riverside-youth-and-family"
    assert AgeRule(PeerType.PEER_SPECIALIST, frozenset({AgeBand.YOUTH}), frozenset({"CPSS"})) in policy.age_rules
    assert not policy.serves(PeerType.PEER_SPECIALIST, AgeBand.YOUTH)
    assert policy.serves_with(PeerType.PEER_SPECIALIST, AgeBand.YOUTH) == {"CPSS"}
    assert policy.serves(PeerType.PEER_SPECIALIST, AgeBand.ADULT)
    # Types it does not list keep their built-in rules.
    assert policy.serves(PeerType.YOUTH_PEER, AgeBand.YOUTH)
    assert not policy.serves(PeerType.RECOVERY_COACH, AgeBand.YOUTH)
    assert policy.allows(Strength.PREFERRED) and policy.allows(Strength.REQUIRED)
    assert policy.weights.of("certification") == 2.5 and policy.weights.of("language") == 3.0
    assert policy.batch == BatchWeights(2.0, 3.0)
    assert policy.source == str(EXAMPLE)


def test_the_digest_follows_the_effective_policy_not_the_source() -> None:
    one = policy_document({"programme": "a", "batch": {"urgency_weight": 5}}, DEFAULT_POLICY, source="one.yaml")
    two = policy_document({"programme": "a"}, DEFAULT_POLICY, source="two.yaml")
    assert one.digest == two.digest  # same rules, same digest
    assert policy_document({"programme": "a", "batch": {"urgency_weight": 4}}, DEFAULT_POLICY).digest != one.digest


def test_a_preferred_certification_weighs_two_unless_the_document_says() -> None:
    preferred = {"programme": "a", "certification_strengths": ["PREFERRED"]}
    assert policy_document(preferred, DEFAULT_POLICY).weights.of("certification") == 2.0
    assert not policy_document(preferred, DEFAULT_POLICY).allows(Strength.REQUIRED)
    weighed = {**preferred, "weights": {"certification": 0.5}}
    assert policy_document(weighed, DEFAULT_POLICY).weights.of("certification") == 0.5


def test_a_type_listed_with_no_rules_serves_nobody() -> None:
    policy = policy_document({"programme": "a", "age_rules": {"FAMILY_PEER": []}}, DEFAULT_POLICY)
    assert not any(policy.serves(PeerType.FAMILY_PEER, age) for age in AgeBand)


BAD: list[tuple[Any, str]] = [
    ([], "(document)"),
    ({"age_rules": {}}, "programme"),
    ({"programme": ""}, "programme"),
    ({"programme": "a b"}, "programme"),
    ({"programme": "a", "colour": 1}, "colour"),
    ({"programme": "a", "age_rules": {"COUNSELLOR": []}}, "age_rules.COUNSELLOR"),
    ({"programme": "a", "age_rules": {"PEER_SPECIALIST": "YOUTH"}}, "age_rules.PEER_SPECIALIST"),
    ({"programme": "a", "age_rules": {"PEER_SPECIALIST": [{}]}}, "age_rules.PEER_SPECIALIST[0].age_bands"),
    (
        {"programme": "a", "age_rules": {"PEER_SPECIALIST": [{"age_bands": ["ADULT"]}, {"age_bands": ["TEEN"]}]}},
        "age_rules.PEER_SPECIALIST[1].age_bands[0]",
    ),
    (
        {"programme": "a", "age_rules": {"YOUTH_PEER": [{"age_bands": ["YOUTH"], "certification": ["X"]}]}},
        "age_rules.YOUTH_PEER[0].certification",
    ),
    (
        {"programme": "a", "age_rules": {"YOUTH_PEER": [{"age_bands": ["YOUTH"], "certifications": [""]}]}},
        "age_rules.YOUTH_PEER[0].certifications",
    ),
    ({"programme": "a", "certification_strengths": []}, "certification_strengths"),
    ({"programme": "a", "certification_strengths": ["MAYBE"]}, "certification_strengths[0]"),
    ({"programme": "a", "weights": {"charm": 1}}, "weights.charm"),
    ({"programme": "a", "weights": {"language": 101}}, "weights.language"),
    ({"programme": "a", "weights": {"language": "high"}}, "weights.language"),
    ({"programme": "a", "batch": {"urgency_weight": -1}}, "batch.urgency_weight"),
    ({"programme": "a", "batch": {"wait_weight_per_week": float("nan")}}, "batch.wait_weight_per_week"),
    ({"programme": "a", "batch": {"wait_weight_per_week": True}}, "batch.wait_weight_per_week"),
    ({"programme": "a", "batch": {"urgency": 1}}, "batch.urgency"),
]


@pytest.mark.parametrize(("doc", "field"), BAD)
def test_a_bad_document_names_the_field(doc: Any, field: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        policy_document(doc, DEFAULT_POLICY)
    assert err.value.field == field


def test_a_bad_file_is_refused_at_start_up_naming_the_file_and_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "policy.yaml"
    bad.write_text("programme: a\nage_rules:\n  PEER_SPECIALIST:\n    - age_bands: [YOUTH, TEEN]\n")
    with pytest.raises(PolicyFileError) as err:
        MatcherSettings.from_env({"POLICY_FILE": str(bad)}, **TEST_AUTH)
    assert err.value.field == "age_rules.PEER_SPECIALIST[0].age_bands[1]"
    assert str(err.value) == (
        f"POLICY_FILE {bad}: age_rules.PEER_SPECIALIST[0].age_bands[1]: is not a known AgeBand"
    )
    bad.write_text("programme: [unclosed\n")
    with pytest.raises(PolicyFileError, match="is not valid YAML at line") as err:
        MatcherSettings.from_env({"POLICY_FILE": str(bad)}, **TEST_AUTH)
    with pytest.raises(PolicyFileError, match="cannot be read"):
        MatcherSettings.from_env({"POLICY_FILE": str(tmp_path / "missing.yaml")}, **TEST_AUTH)


def test_json_is_a_policy_document_too(tmp_path: Path) -> None:
    doc = tmp_path / "policy.json"
    doc.write_text('{"programme": "b", "batch": {"urgency_weight": 1}}')
    assert load_policy(str(doc), DEFAULT_POLICY) == replace(
        DEFAULT_POLICY, programme="b", batch=BatchWeights(1.0, 1.0)
    )


def test_the_policy_is_plain_data_in_a_stable_order() -> None:
    doc = ProgrammePolicy().canonical()
    assert doc["programme"] == "default"
    assert doc["certification_strengths"] == ["REQUIRED"]
    assert doc["age_rules"][0] == {  # type: ignore[index]
        "peer_type": "RECOVERY_COACH",
        "age_bands": ["YOUNG_ADULT", "ADULT", "OLDER_ADULT"],
    }
    assert doc["batch"] == {"urgency_weight": 5.0, "wait_weight_per_week": 1.0}
