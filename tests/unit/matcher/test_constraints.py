"""Each hard constraint on a tiny roster (availability has its own file)."""

from __future__ import annotations

import numpy as np
import pytest

from alongside.matcher.domain import constraints as c
from alongside.matcher.domain.constraints import HARD_CONSTRAINTS, Constraint, type_serves_age
from alongside.matcher.domain.model import AgeBand, Modality, PeerStatus, PeerType, Preferences
from tests.unit.matcher.test_model import participant, passing, peer, pref, request

A, Y, C = AgeBand.ADULT, AgeBand.YOUTH, AgeBand.CHILD
COACH, YOUTH_PEER, FAMILY = PeerType.RECOVERY_COACH, PeerType.YOUTH_PEER, PeerType.FAMILY_PEER


def test_funnel_order_is_the_documented_one() -> None:
    assert [name for name, _ in HARD_CONSTRAINTS] == list(Constraint)
    assert HARD_CONSTRAINTS[0][0] == Constraint.STATUS
    assert HARD_CONSTRAINTS[-1][0] == Constraint.CAPACITY


def test_status_keeps_only_active_peers() -> None:
    peers = [peer("a"), peer("b", status=PeerStatus.ON_LEAVE), peer("c", status=PeerStatus.INACTIVE)]
    assert passing(c.status_active, peers, request()) == ["a"]


def test_peer_type_must_be_requested() -> None:
    peers = [
        peer("a"),
        peer("b", types=frozenset({PeerType.PEER_NAVIGATOR})),
        peer("c", types=frozenset({COACH, FAMILY})),
    ]
    assert passing(c.peer_type_requested, peers, request()) == ["a", "c"]
    wanted = frozenset({PeerType.PEER_NAVIGATOR, FAMILY})
    assert passing(c.peer_type_requested, peers, request(peer_types=wanted)) == ["b", "c"]


def test_excluded_and_declined_peers_are_out() -> None:
    peers = [peer("a"), peer("b"), peer("c")]
    req = request(excluded_peer_ids=frozenset({"a", "not-on-roster"}))
    assert passing(c.not_excluded, peers, req, declined=frozenset({"c"})) == ["b"]
    assert passing(c.not_excluded, peers, request()) is None


@pytest.mark.parametrize(
    ("peer_type", "age", "allowed"),
    [
        (YOUTH_PEER, Y, True),
        (YOUTH_PEER, AgeBand.YOUNG_ADULT, True),
        (YOUTH_PEER, A, False),
        (YOUTH_PEER, C, False),
        (FAMILY, C, True),
        (FAMILY, Y, True),
        (COACH, Y, False),
        (COACH, C, False),
        (COACH, A, True),
        (PeerType.PEER_SPECIALIST, AgeBand.OLDER_ADULT, True),
    ],
)
def test_type_serves_age(peer_type: PeerType, age: AgeBand, allowed: bool) -> None:
    assert type_serves_age(peer_type, age) is allowed


def test_age_band_must_be_served() -> None:
    peers = [peer("a"), peer("b", age_groups=frozenset({AgeBand.OLDER_ADULT}))]
    assert passing(c.age_rules, peers, request()) == ["a"]


def test_youth_peer_does_not_serve_adults() -> None:
    peers = [peer("a", types=frozenset({YOUTH_PEER}), age_groups=frozenset({A, Y}))]
    assert passing(c.age_rules, peers, request(peer_types=frozenset({YOUTH_PEER}))) == []


def test_minor_gets_only_youth_or_family_peers_per_requested_type() -> None:
    both = peer("a", types=frozenset({COACH, YOUTH_PEER}), age_groups=frozenset({A, Y}))
    youth = participant(age_band=Y)
    # The peer is a youth peer too, but only "recovery coach" was asked for.
    assert passing(c.age_rules, [both], request(participant=youth)) == []
    asked = frozenset({COACH, YOUTH_PEER})
    assert passing(c.age_rules, [both], request(participant=youth, peer_types=asked)) == ["a"]


def test_child_gets_a_family_peer_only() -> None:
    peers = [
        peer("fam", types=frozenset({FAMILY}), age_groups=frozenset({C})),
        peer("yp", types=frozenset({YOUTH_PEER}), age_groups=frozenset({C})),
    ]
    req = request(participant=participant(age_band=C), peer_types=frozenset({FAMILY, YOUTH_PEER}))
    assert passing(c.age_rules, peers, req) == ["fam"]


def test_required_language_any_of() -> None:
    peers = [peer("a", languages=frozenset({"en", "so"})), peer("b"), peer("c", languages=frozenset({"ar"}))]
    req = request(Preferences(languages=pref("so", "ar", required=True)))
    assert passing(c.required_language, peers, req) == ["a", "c"]


def test_interpreter_turns_a_required_language_into_a_preference() -> None:
    req = request(Preferences(languages=pref("so", required=True)), participant=participant(interpreter_needed=True))
    assert passing(c.required_language, [peer("a")], req) is None


def test_required_gender() -> None:
    peers = [peer("a", gender="woman"), peer("b", gender="man"), peer("c")]
    req = request(Preferences(gender=pref("woman", "nonbinary", required=True)))
    assert passing(c.required_gender, peers, req) == ["a"]


def test_required_certification_any_of() -> None:
    peers = [peer("a", certifications=frozenset({"CPSS"})), peer("b"), peer("c", certifications=frozenset({"CRSS"}))]
    req = request(Preferences(certifications=pref("CRSS", required=True)))
    assert passing(c.required_certification, peers, req) == ["c"]


def test_required_culture_any_of() -> None:
    peers = [peer("a", cultures=frozenset({"somali", "muslim"})), peer("b", cultures=frozenset({"latinx"}))]
    req = request(Preferences(cultures=pref("somali", "deaf", required=True)))
    assert passing(c.required_culture, peers, req) == ["a"]


def test_required_lived_experience_needs_every_area() -> None:
    peers = [
        peer("a", lived_experience=frozenset({"substance_use", "parenting", "veteran"})),
        peer("b", lived_experience=frozenset({"substance_use"})),
    ]
    req = request(Preferences(lived_experience=pref("substance_use", "parenting", required=True)))
    assert passing(c.required_lived_experience, peers, req) == ["a"]
    unknown = request(Preferences(lived_experience=pref("substance_use", "unheard_of", required=True)))
    assert passing(c.required_lived_experience, peers, unknown) == []


def test_required_pathway_any_of() -> None:
    peers = [peer("a", pathways=frozenset({"smart"})), peer("b", pathways=frozenset({"twelve_step"}))]
    req = request(Preferences(pathways=pref("smart", "secular", required=True)))
    assert passing(c.required_pathway, peers, req) == ["a"]


def test_required_service_area() -> None:
    peers = [peer("a", service_area="north"), peer("b", service_area="south"), peer("c")]
    req = request(Preferences(service_area=pref("north", required=True)))
    assert passing(c.required_service_area, peers, req) == ["a"]


@pytest.mark.parametrize(
    ("check", "field", "value"),
    [
        (c.required_language, "languages", "so"),
        (c.required_gender, "gender", "woman"),
        (c.required_certification, "certifications", "CPSS"),
        (c.required_culture, "cultures", "somali"),
        (c.required_lived_experience, "lived_experience", "veteran"),
        (c.required_pathway, "pathways", "smart"),
        (c.required_service_area, "service_area", "north"),
    ],
)
def test_a_preferred_value_never_excludes(check: c.Check, field: str, value: str) -> None:
    preferred = request(Preferences(**{field: pref(value)}))
    assert passing(check, [peer("a")], preferred) is None
    required = request(Preferences(**{field: pref(value, required=True)}))
    assert passing(check, [peer("a")], required) == []


def test_modality_any_shared_way_when_none_required() -> None:
    peers = [peer("a"), peer("b", modalities=frozenset({Modality.TEXT})), peer("c", modalities=frozenset())]
    assert passing(c.modality_compatible, peers, request()) == ["a", "b"]


def test_modality_must_meet_the_required_ones() -> None:
    peers = [peer("a"), peer("b", modalities=frozenset({Modality.VIDEO, Modality.TEXT}))]
    req = request(Preferences(modalities=pref(Modality.VIDEO, required=True)))
    assert passing(c.modality_compatible, peers, req) == ["b"]


def test_in_person_counts_only_in_the_same_service_area() -> None:
    in_person = frozenset({Modality.IN_PERSON})
    peers = [
        peer("near", modalities=in_person, service_area="north"),
        peer("far", modalities=in_person, service_area="south"),
    ]
    req = request(participant=participant(service_area="north"))
    assert passing(c.modality_compatible, peers, req) == ["near"]
    nowhere = request(participant=participant(service_area=""))
    assert passing(c.modality_compatible, peers, nowhere) == []


def test_capacity_in_acuity_units() -> None:
    peers = [peer("a", capacity=5), peer("b", capacity=3), peer("c", capacity=0)]
    loads = np.array([2, 2, 0], dtype=np.int64)
    assert passing(c.capacity_left, peers, request(acuity=3), loads=loads) == ["a"]
    assert passing(c.capacity_left, peers, request(acuity=1), loads=loads) == ["a", "b"]
