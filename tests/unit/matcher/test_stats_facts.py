"""The dashboard's compact facts read back what was written, whatever the tags hold."""

from __future__ import annotations

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.matcher.adapters.stats_facts import (
    match_fact,
    read_match,
    read_request,
    read_tags,
    request_fact,
    tags_fact,
)


def test_a_request_fact_round_trips() -> None:
    state = pb.MatchRequest(request_id="r1", status=pb.REQUEST_STATUS_MATCHED, urgency=pb.URGENCY_URGENT, match_id="m1")
    state.created_at.FromMilliseconds(1_767_600_000_123)
    fact = read_request(request_fact(state).encode())
    assert (fact.created_ms, fact.urgency, fact.status, fact.match_id) == (
        1_767_600_000_123,
        pb.URGENCY_URGENT,
        pb.REQUEST_STATUS_MATCHED,
        "m1",
    )


def test_tags_with_separators_in_them_survive() -> None:
    prefs = pb.Preferences(
        languages=pb.Preference(values=["SO", "en"], strength=pb.STRENGTH_REQUIRED),
        cultures=pb.Preference(values=["a|b", "c,d", "Latino"], strength=pb.STRENGTH_PREFERRED),
    )
    tags = read_tags(tags_fact(pb.SubmitMatchRequestRequest(preferences=prefs)).encode())
    assert tags.languages == {"so", "en"} and tags.languages_required
    assert tags.cultures == {"a|b", "c,d", "latino"} and not tags.cultures_required
    none = read_tags(tags_fact(pb.SubmitMatchRequestRequest()).encode())
    assert none.languages == none.cultures == frozenset()


def test_a_match_fact_round_trips() -> None:
    match = pb.Match(match_id="m1", peer_id="peer:with:colons")
    match.accepted_at.FromMilliseconds(42)
    assert read_match(match_fact(match).encode()) == (42, "peer:with:colons")


def test_the_facts_become_columns_and_an_erased_unmatched_request_is_left_out() -> None:
    from alongside.matcher.adapters.stats_reader import Facts
    from alongside.matcher.stats_mappers import intakes_of

    s = pb.REQUEST_STATUS_SHORTLISTED, pb.REQUEST_STATUS_MATCHED, pb.REQUEST_STATUS_ERASED, pb.REQUEST_STATUS_WAITLISTED
    es = tags_fact(pb.SubmitMatchRequestRequest(preferences=pb.Preferences(languages=pb.Preference(values=["es"]))))
    facts = Facts(
        requests={
            b"r1": f"10|1|{s[0]}|".encode(),
            b"r2": f"20|3|{s[1]}|m2".encode(),
            b"r3": f"30|1|{s[2]}|".encode(),  # erased before any match: when it stopped waiting is unknown
            b"r4": f"40|2|{s[3]}|".encode(),
        },
        tags={b"r2": es.encode(), b"r3": es.encode()},
        matches={b"m2": b"25|peer-1"},
    )
    peers = {"peer-1": pb.Peer(peer_id="peer-1", languages=["en", "es"])}
    intakes = intakes_of(facts, peers)
    assert intakes.created_ms.tolist() == [10, 20, 40]
    assert intakes.urgency == ["ROUTINE", "URGENT", "PRIORITY"]
    assert intakes.waitlisted.tolist() == [False, False, True]
    (stated,) = intakes.stated
    assert (stated.created_ms, stated.matched_ms, stated.languages) == (20, 25, frozenset({"es"}))
    assert stated.peer_languages == frozenset({"en", "es"})
