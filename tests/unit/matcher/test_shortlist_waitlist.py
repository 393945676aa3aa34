"""When nobody fits: the funnel counts and the constraint that emptied the list."""

from __future__ import annotations

from typing import Any

from alongside.matcher.domain.model import AgeBand, Peer, PeerStatus, PeerType, Preferences, WeeklyWindow
from alongside.matcher.domain.results import Reason
from alongside.matcher.domain.roster_index import RosterIndex
from alongside.matcher.domain.shortlist import shortlist
from alongside.matcher.domain.weights import Weights
from tests.unit.matcher.test_model import NOW, participant, peer, pref, request

BOTH = frozenset({PeerType.YOUTH_PEER, PeerType.FAMILY_PEER})


def reason(peers: list[Peer], **req: Any) -> Reason:
    result = shortlist(RosterIndex(peers), request(**req), k=5, weights=Weights(), now=NOW)
    assert result.candidates == () and result.reason is not None
    return result.reason


def counts(r: Reason) -> dict[str, tuple[int, int]]:
    return {step.constraint: (step.remaining, step.of) for step in r.funnel}


def test_language_empties_the_list() -> None:
    peers = [peer("a"), peer("b"), peer("c", status=PeerStatus.ON_LEAVE)]
    r = reason(peers, preferences=Preferences(languages=pref("so", required=True)))
    assert r.constraint == "language"
    assert r.summary == "Speaks Somali: 0 of the 2 peers who pass the earlier checks"
    assert counts(r)["status"] == (2, 3)
    assert counts(r)["language"] == (0, 2)
    assert counts(r)["capacity"] == (0, 0)
    texts = [step.text for step in r.funnel]
    assert "Active on the roster: 2 of 3" in texts
    assert "Speaks Somali: 0 of 2" in texts
    assert "Gender: no requirement" in texts


def test_capacity_names_the_full_peers() -> None:
    peers = [peer(pid, capacity=2) for pid in ("a", "b", "c")] + [peer("d", types=frozenset({PeerType.FAMILY_PEER}))]
    index = RosterIndex(peers, {"a": 2, "b": 2, "c": 2})
    result = shortlist(index, request(), k=5, weights=Weights(), now=NOW)
    assert result.reason is not None
    assert result.reason.constraint == "capacity"
    assert result.reason.summary == "Capacity: the 3 otherwise feasible peers are full"
    assert counts(result.reason)["peer_type"] == (3, 4)
    assert counts(result.reason)["capacity"] == (0, 3)


def test_capacity_with_higher_acuity() -> None:
    r = reason([peer("a", capacity=2)], acuity=3)
    assert r.summary == "Capacity: the 1 otherwise feasible peer has fewer than 3 units free"


def test_the_first_constraint_to_empty_the_list_is_named() -> None:
    # Nobody speaks Somali and nobody is free on Tuesday; language comes first.
    tuesday = participant(availability=(WeeklyWindow(1, 9 * 60, 10 * 60),))
    r = reason([peer("a")], participant=tuesday, preferences=Preferences(languages=pref("so", required=True)))
    assert r.constraint == "language"
    r = reason([peer("a")], participant=tuesday)
    assert r.constraint == "availability"
    assert (
        r.summary
        == "Free at the same time for a 60-minute session each week: 0 of the 1 peer who passes the earlier checks"
    )


def test_status_and_empty_roster() -> None:
    inactive = peer("a", status=PeerStatus.INACTIVE)
    assert reason([inactive]).summary == "Status: the one peer on the roster is not active"
    assert reason([inactive, peer("b", status=PeerStatus.ON_LEAVE)]).summary == (
        "Status: none of the 2 peers on the roster is active"
    )
    empty = reason([])
    assert empty.summary == "The roster has no peers yet"
    assert counts(empty)["status"] == (0, 0)


def test_age_rules_text_names_the_band_and_types() -> None:
    r = reason([peer("a")], participant=participant(age_band=AgeBand.YOUTH))
    assert r.constraint == "age_rules"
    assert r.summary == (
        "Serves youth (12-17) in a peer type allowed for that age (none was requested):"
        " 0 of the 1 peer who passes the earlier checks"
    )
    adults_only = peer("a", types=frozenset({PeerType.YOUTH_PEER}))
    ok = reason([adults_only], participant=participant(age_band=AgeBand.YOUTH), peer_types=BOTH)
    assert "Serves youth (12-17) as family peer or youth peer: 0 of 1" in [step.text for step in ok.funnel]


def test_interpreter_language_is_reported_as_not_required() -> None:
    needs = participant(interpreter_needed=True, availability=())
    r = reason([peer("a")], participant=needs, preferences=Preferences(languages=pref("so", required=True)))
    language = next(step for step in r.funnel if step.constraint == "language")
    assert language.text == "Language: not required, an interpreter will be arranged"
    assert (language.remaining, language.of) == (1, 1)


def test_funnel_lists_every_constraint_in_order() -> None:
    r = reason([peer("a", capacity=0)])
    assert [step.constraint for step in r.funnel] == [
        "status", "peer_type", "not_excluded", "age_rules", "language", "gender", "certification", "culture",
        "lived_experience", "pathway", "service_area", "modality", "availability", "capacity",
    ]  # fmt: skip
    assert all(step.remaining <= step.of for step in r.funnel)


def test_every_text_comes_with_its_phrase_for_other_languages() -> None:
    from alongside.matcher.domain.phrases import Arg, Phrase, english

    peers = [peer("a"), peer("b")]
    r = reason(peers, preferences=Preferences(languages=pref("so", "ti", required=True)))
    assert r.summary_phrase is not None
    assert r.summary_phrase.template == "{label}: 0 of the {of} peers who pass the earlier checks"
    label = Phrase("Speaks {languages}", (Arg("languages", ("so", "ti"), "language", "or"),))
    assert r.summary_phrase.args == (Arg.nested("label", label), Arg("of", ("2",), "number"))
    assert english(r.summary_phrase) == r.summary
    assert r.summary == "Speaks Somali or Tigrinya: 0 of the 2 peers who pass the earlier checks"
    for step in r.funnel:
        assert step.phrase is not None and english(step.phrase) == step.text
    youth_only = peer("a", types=frozenset({PeerType.YOUTH_PEER}))
    youth = reason([youth_only], participant=participant(age_band=AgeBand.YOUTH), peer_types=BOTH)
    age = next(step for step in youth.funnel if step.constraint == "age_rules")
    assert age.phrase is not None and age.phrase.template == "{label}: {remaining} of {of}"
    nested = age.phrase.args[0].phrase
    assert nested is not None and nested.template == "Serves {age} as {types}"
    assert nested.args == (Arg("age", ("YOUTH",), "age_band"),
                           Arg("types", ("FAMILY_PEER", "YOUTH_PEER"), "peer_type", "or"))
