"""Candidate explanations: the texts, the points, and what they never say."""

from __future__ import annotations

from typing import Any

import pytest

from alongside.matcher.domain import labels
from alongside.matcher.domain.model import Modality, Peer, Preferences, WeeklyWindow
from alongside.matcher.domain.results import Candidate, Contribution
from alongside.matcher.domain.roster_index import RosterIndex
from alongside.matcher.domain.shortlist import shortlist
from alongside.matcher.domain.weights import Weights
from tests.unit.matcher.test_model import NOW, participant, peer, pref, request

MONDAY_9_TO_2 = (WeeklyWindow(0, 9 * 60, 14 * 60),)


def explain(p: Peer, loads: dict[str, int] | None = None, **req: Any) -> Candidate:
    result = shortlist(RosterIndex([p], loads), request(**req), k=1, weights=Weights(), now=NOW)
    assert len(result.candidates) == 1
    return result.candidates[0]


def lines(candidate: Candidate) -> list[str]:
    return [c.line for c in candidate.contributions]


def test_a_full_explanation_with_points() -> None:
    p = peer(
        "a",
        languages=frozenset({"en", "so"}),
        lived_experience=frozenset({"substance_use", "parenting"}),
        pathways=frozenset({"medication_assisted"}),
        availability=MONDAY_9_TO_2,
        capacity=10,
    )
    prefs = Preferences(
        languages=pref("so"),
        lived_experience=pref("substance_use", "parenting", "veteran"),
        pathways=pref("medication_assisted"),
    )
    got = explain(p, {"a": 6}, preferences=prefs, participant=participant(availability=MONDAY_9_TO_2))
    assert lines(got) == [
        "Speaks Somali (preferred language) +3.0",
        "Familiar with medication-assisted recovery +2.0",
        "Shares lived experience: 2 of 3 areas (parenting and substance use) +1.3",
        "Available together 5 h a week +1.0",
        "Has capacity for 4 more caseload units (balance) +0.4",
    ]
    assert sum(c.points for c in got.contributions) == pytest.approx(got.score)
    lived = got.contributions[2]
    assert (lived.criterion, lived.max_points) == ("lived_experience", 2.0)
    assert lived.points == pytest.approx(4 / 3)


def test_unmet_preferences_show_with_zero_points() -> None:
    prefs = Preferences(languages=pref("vi"), cultures=pref("hmong"), gender=pref("woman"))
    got = explain(peer("a", gender="man"), preferences=prefs)
    assert "Does not speak a preferred language +0.0" in lines(got)
    assert "Shares no preferred cultural identity +0.0" in lines(got)
    assert "Gender differs from the preference +0.0" in lines(got)
    assert lines(got)[-1].endswith("+0.0")


def test_interpreter_texts() -> None:
    required = Preferences(languages=pref("so", required=True))
    needs = participant(interpreter_needed=True)
    arranged = explain(peer("a"), preferences=required, participant=needs)
    assert "Does not speak Somali; an interpreter will be arranged +0.0" in lines(arranged)
    speaker = explain(peer("a", languages=frozenset({"so"})), preferences=required, participant=needs)
    assert "Speaks Somali, so no interpreter is needed +3.0" in lines(speaker)


def test_met_requirements_come_first_without_points() -> None:
    prefs = Preferences(
        languages=pref("so", "ar", required=True),
        certifications=pref("CPSS", required=True),
        lived_experience=pref("substance_use", required=True),
        modalities=pref(Modality.PHONE, Modality.VIDEO, required=True),
    )
    p = peer(
        "a",
        languages=frozenset({"ar"}),
        certifications=frozenset({"CPSS"}),
        lived_experience=frozenset({"substance_use"}),
    )
    got = explain(p, preferences=prefs)
    assert lines(got)[:4] == [
        "Speaks Arabic (required language)",
        "Holds CPSS (required certification)",
        "Shares lived experience: substance use (required)",
        "Can meet by phone (required)",
    ]
    assert all(c.max_points == 0 for c in got.contributions[:4])


def test_continuity_modality_and_area_texts() -> None:
    p = peer("a", modalities=frozenset({Modality.IN_PERSON}), service_area="north")
    prefs = Preferences(modalities=pref(Modality.IN_PERSON), service_area=pref("north"))
    got = explain(p, preferences=prefs, previous_peer_id="a", participant=participant(service_area="north"))
    assert "Previous peer, so the relationship can continue +2.5" in lines(got)
    assert "Can meet in person (preferred) +0.5" in lines(got)
    assert "Works in north (preferred service area) +0.5" in lines(got)


def test_texts_name_no_person() -> None:
    p = peer("peer-77", display_name="Jane Example", languages=frozenset({"so"}), gender="woman")
    got = explain(p, preferences=Preferences(languages=pref("so"), gender=pref("woman")), previous_peer_id="peer-77")
    for text in lines(got):
        assert "Jane" not in text and "peer-77" not in text and "pt-1" not in text


def test_contribution_line_formats_points() -> None:
    assert Contribution("x", 1.25, 2.0, "Something").line == "Something +1.2"
    assert Contribution("x", 0.0, 0.0, "A note").line == "A note"


@pytest.mark.parametrize(
    ("code", "name"),
    [("so", "Somali"), ("ase", "American Sign Language"), ("es-mx", "Spanish (MX)"), ("xx", "xx")],
)
def test_language_names(code: str, name: str) -> None:
    assert labels.language(code) == name


def test_label_helpers() -> None:
    assert labels.duration(135) == "2 h 15 min"
    assert labels.duration(300) == "5 h"
    assert labels.duration(45) == "45 min"
    assert labels.join(["a", "b", "c"], "or") == "a, b or c"
    assert labels.plural(1, "unit") == "1 unit"
    assert labels.pathway("harm_reduction") == "harm reduction"
    assert labels.pathway("new_way") == "new way"


def test_each_contribution_comes_with_its_phrase() -> None:
    from alongside.matcher.domain.phrases import Arg, english

    p = peer("a", languages=frozenset({"en", "so"}), certifications=frozenset({"CPRS"}), capacity=10)
    prefs = Preferences(languages=pref("so"), certifications=pref("CPRS", required=True),
                        lived_experience=pref("veteran"))
    got = explain(p, preferences=prefs)
    for c in got.contributions:
        assert c.phrase is not None and english(c.phrase) == c.text
    spoken = next(c for c in got.contributions if c.criterion == "language")
    assert spoken.phrase is not None and spoken.phrase.template == "Speaks {languages} (preferred language)"
    assert spoken.phrase.args == (Arg("languages", ("so",), "language", "and"),)
    held = next(c for c in got.contributions if c.criterion == "certification")
    assert held.phrase is not None and held.phrase.template == "Holds {names} (required certification)"
