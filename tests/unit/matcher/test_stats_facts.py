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
