"""The online engine: ranking, tie-breaks, loads, and the batch matrices."""

from __future__ import annotations

import numpy as np
import pytest

from alongside.kit.errors import InvalidArgument, NotFound
from alongside.matcher.domain.model import Preferences
from alongside.matcher.domain.pair_matrices import pair_matrices
from alongside.matcher.domain.results import Shortlist
from alongside.matcher.domain.roster_index import RosterIndex
from alongside.matcher.domain.shortlist import shortlist, top_k
from alongside.matcher.domain.weights import Weights
from tests.unit.matcher.test_model import NOW, peer, pref, request

W = Weights()


def ids(result: Shortlist) -> list[str]:
    return [c.peer_id for c in result.candidates]


def test_best_first_and_at_most_k() -> None:
    index = RosterIndex([peer("a"), peer("b", languages=frozenset({"so"})), peer("c")])
    result = shortlist(index, request(Preferences(languages=pref("so"))), k=2, weights=W, now=NOW)
    assert ids(result) == ["b", "a"]
    assert result.reason is None and not result.waitlisted
    assert result.candidates[0].score == pytest.approx(3.0 + 1.0 + 1.0)


def test_ties_break_by_peer_id() -> None:
    index = RosterIndex([peer(pid) for pid in ("m", "c", "x", "a")])
    assert ids(shortlist(index, request(), k=3, weights=W, now=NOW)) == ["a", "c", "m"]


@pytest.mark.parametrize(
    ("scores", "k", "expected"),
    [
        ([1.0, 3.0, 3.0, 2.0, 3.0], 2, [1, 2]),
        ([1.0, 3.0, 3.0, 2.0, 3.0], 4, [1, 2, 4, 3]),
        ([2.0, 1.0], 5, [0, 1]),
        ([0.5, 0.5, 0.5], 1, [0]),
    ],
)
def test_top_k_is_deterministic_at_the_cut(scores: list[float], k: int, expected: list[int]) -> None:
    assert top_k(np.array(scores), k).tolist() == expected


def test_required_excludes_but_preferred_only_weighs() -> None:
    index = RosterIndex([peer("a"), peer("b", languages=frozenset({"so"}))])
    preferred = shortlist(index, request(Preferences(languages=pref("so"))), k=5, weights=W, now=NOW)
    required = shortlist(index, request(Preferences(languages=pref("so", required=True))), k=5, weights=W, now=NOW)
    assert ids(preferred) == ["b", "a"]
    assert ids(required) == ["b"]


def test_declined_peers_are_left_out() -> None:
    index = RosterIndex([peer("a"), peer("b")])
    assert ids(shortlist(index, request(), k=5, weights=W, now=NOW, declined=frozenset({"a"}))) == ["b"]


def test_loads_update_in_place_or_per_call() -> None:
    index = RosterIndex([peer("a", capacity=2), peer("b", capacity=2)], {"a": 1})
    assert ids(shortlist(index, request(), k=5, weights=W, now=NOW)) == ["b", "a"]  # b has more room
    index.set_load("b", 2)
    assert ids(shortlist(index, request(), k=5, weights=W, now=NOW)) == ["a"]
    loads = np.array([2, 0], dtype=np.int64)
    assert ids(shortlist(index, request(), k=5, weights=W, now=NOW, loads=loads)) == ["b"]


def test_set_load_rejects_unknown_peers_and_negative_units() -> None:
    index = RosterIndex([peer("a")])
    with pytest.raises(NotFound):
        index.set_load("zz", 1)
    with pytest.raises(InvalidArgument):
        index.set_load("a", -1)


def test_roster_ids_must_be_unique() -> None:
    with pytest.raises(InvalidArgument) as err:
        RosterIndex([peer("a"), peer("a")])
    assert err.value.field == "peers"


@pytest.mark.parametrize("k", [0, 101])
def test_k_is_bounded(k: int) -> None:
    with pytest.raises(InvalidArgument) as err:
        shortlist(RosterIndex([peer("a")]), request(), k=k, weights=W, now=NOW)
    assert err.value.field == "k"


def test_pair_matrices_agree_with_the_shortlist() -> None:
    peers = [peer("a", languages=frozenset({"so"})), peer("b"), peer("c", capacity=0)]
    index = RosterIndex(peers)
    requests = [
        request(Preferences(languages=pref("so")), request_id="r1"),
        request(Preferences(languages=pref("so", required=True)), request_id="r2"),
    ]
    m = pair_matrices(index, requests, weights=W, now=NOW, declined={"r1": frozenset({"b"})})
    assert m.request_ids == ("r1", "r2") and m.peer_ids == ("a", "b", "c")
    assert m.feasible.tolist() == [[True, False, False], [True, False, False]]
    assert m.fit[:, 1:].tolist() == [[0.0, 0.0], [0.0, 0.0]]
    top = shortlist(index, requests[0], k=1, weights=W, now=NOW, declined=frozenset({"b"}))
    assert m.fit[0, 0] == top.candidates[0].score
    assert m.fit[1, 0] == pytest.approx(m.fit[0, 0] - 3.0)  # required language scores nothing
