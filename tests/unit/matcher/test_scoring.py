"""Each soft criterion on a tiny roster, the weights, and the weighted sum."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from alongside.kit.errors import InvalidArgument
from alongside.matcher.domain import scoring as s
from alongside.matcher.domain.model import Modality, Peer, Preferences, WeeklyWindow
from alongside.matcher.domain.query import compile_query
from alongside.matcher.domain.roster_index import RosterIndex
from alongside.matcher.domain.weights import Criterion, Weights
from tests.unit.matcher.test_model import NOW, participant, peer, pref, request


def term(fn: s.Term, peers: list[Peer], req: Any, **query: Any) -> list[float] | None:
    index = RosterIndex(peers)
    values = fn(index, compile_query(index, req, now=NOW, **query), None)
    return None if values is None else [round(v, 6) for v in values.tolist()]


def test_preferred_language_weighs_any_spoken() -> None:
    peers = [peer("a", languages=frozenset({"en", "so"})), peer("b")]
    assert term(s.language_term, peers, request(Preferences(languages=pref("so", "ar")))) == [1.0, 0.0]


def test_required_language_scores_nothing_unless_an_interpreter_is_needed() -> None:
    peers = [peer("a", languages=frozenset({"so"})), peer("b")]
    required = Preferences(languages=pref("so", required=True))
    assert term(s.language_term, peers, request(required)) is None
    with_interpreter = request(required, participant=participant(interpreter_needed=True))
    assert term(s.language_term, peers, with_interpreter) == [1.0, 0.0]


def test_culture_is_the_shared_fraction() -> None:
    peers = [peer("a", cultures=frozenset({"somali", "muslim"})), peer("b", cultures=frozenset({"somali"}))]
    assert term(s.culture_term, peers, request(Preferences(cultures=pref("somali", "muslim")))) == [1.0, 0.5]


def test_lived_experience_is_the_shared_fraction() -> None:
    peers = [peer("a", lived_experience=frozenset({"substance_use", "parenting"})), peer("b")]
    req = request(Preferences(lived_experience=pref("substance_use", "parenting", "veteran")))
    assert term(s.lived_experience_term, peers, req) == [0.666667, 0.0]


def test_pathway_familiarity_fraction() -> None:
    peers = [peer("a", pathways=frozenset({"medication_assisted"})), peer("b", pathways=frozenset({"smart"}))]
    req = request(Preferences(pathways=pref("medication_assisted")))
    assert term(s.pathway_term, peers, req) == [1.0, 0.0]


def test_gender_preference() -> None:
    peers = [peer("a", gender="woman"), peer("b", gender="man")]
    assert term(s.gender_term, peers, request(Preferences(gender=pref("woman")))) == [1.0, 0.0]


def test_continuity_marks_the_previous_peer_only() -> None:
    peers = [peer("a"), peer("b")]
    assert term(s.continuity_term, peers, request(previous_peer_id="b")) == [0.0, 1.0]
    assert term(s.continuity_term, peers, request(previous_peer_id="gone")) is None
    assert term(s.continuity_term, peers, request()) is None


def test_availability_is_the_share_of_the_participants_week() -> None:
    four_hours = (WeeklyWindow(0, 9 * 60, 13 * 60),)
    peers = [peer("a", availability=(WeeklyWindow(0, 9 * 60, 10 * 60),)), peer("b", availability=four_hours)]
    req = request(participant=participant(availability=four_hours))
    assert term(s.availability_term, peers, req) == [0.25, 1.0]


def test_caseload_balance_is_the_free_fraction() -> None:
    peers = [peer("a", capacity=10), peer("b", capacity=10), peer("c", capacity=0), peer("d", capacity=2)]
    loads = np.array([4, 0, 0, 5], dtype=np.int64)
    assert term(s.caseload_balance_term, peers, request(), loads=loads) == [0.6, 1.0, 0.0, 0.0]


def test_preferred_modality_counts_in_person_only_nearby() -> None:
    in_person = frozenset({Modality.IN_PERSON})
    peers = [
        peer("near", modalities=in_person, service_area="north"),
        peer("far", modalities=in_person, service_area="south"),
        peer("video", modalities=frozenset({Modality.VIDEO})),
    ]
    req = request(Preferences(modalities=pref(Modality.IN_PERSON)), participant=participant(service_area="north"))
    assert term(s.modality_term, peers, req) == [0.0, 1.0, 0.0]  # ids sort as far, near, video


def test_preferred_service_area() -> None:
    peers = [peer("a", service_area="north"), peer("b", service_area="south")]
    assert term(s.service_area_term, peers, request(Preferences(service_area=pref("north")))) == [1.0, 0.0]


@pytest.mark.parametrize(
    ("fn", "field"),
    [
        (s.culture_term, "cultures"),
        (s.lived_experience_term, "lived_experience"),
        (s.pathway_term, "pathways"),
        (s.gender_term, "gender"),
        (s.modality_term, "modalities"),
        (s.service_area_term, "service_area"),
    ],
)
def test_required_preferences_do_not_score(fn: s.Term, field: str) -> None:
    assert term(fn, [peer("a")], request(Preferences(**{field: pref("x", required=True)}))) is None
    assert term(fn, [peer("a")], request()) is None


def test_score_is_the_weighted_sum_in_order() -> None:
    peers = [peer("a", languages=frozenset({"so"}), capacity=4), peer("b", capacity=4)]
    index = RosterIndex(peers, {"a": 2})
    q = compile_query(index, request(Preferences(languages=pref("so"))), now=NOW)
    total, terms = s.score(index, q, Weights(language=3.0, availability=1.0, caseload_balance=2.0))
    assert list(terms) == [Criterion.LANGUAGE, Criterion.AVAILABILITY, Criterion.CASELOAD_BALANCE]
    assert total.tolist() == [3.0 + 1.0 + 2.0 * 0.5, 0.0 + 1.0 + 2.0 * 1.0]


def test_scoring_a_subset_of_rows_matches_the_full_score() -> None:
    peers = [peer(f"p{i}", capacity=i, languages=frozenset({"so" if i % 2 else "en"})) for i in range(6)]
    index = RosterIndex(peers, {"p3": 1})
    q = compile_query(index, request(Preferences(languages=pref("so")), previous_peer_id="p4"), now=NOW)
    rows = np.array([1, 3, 4], dtype=np.intp)
    full, _ = s.score(index, q, Weights())
    part, _ = s.score(index, q, Weights(), rows)
    assert part.tolist() == full[rows].tolist()


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf"), 101.0, True])
def test_weights_must_be_sane_numbers(bad: Any) -> None:
    with pytest.raises(InvalidArgument) as err:
        Weights(language=bad)
    assert err.value.field == "weights.language"


def test_weights_lookup() -> None:
    weights = Weights(gender=0.25)
    assert weights.of(Criterion.GENDER) == 0.25
    assert weights.of(Criterion.CERTIFICATION) == 0.0
