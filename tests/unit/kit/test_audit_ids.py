"""Which object an audit record names: the most specific id the request
carries, else one in the answer or a part of it."""

from __future__ import annotations

from alongside.api.matcher.v1 import matcher_pb2 as m
from alongside.api.scheduler.v1 import scheduler_pb2 as s
from alongside.kit.audit import object_id


def test_the_most_specific_id_of_the_request_wins() -> None:
    request = s.BookSessionRequest(peer_id="peer-1", match_id="match-1")
    assert object_id(request, s.BookSessionResponse()) == "match-1"


def test_an_empty_id_field_is_passed_over() -> None:
    assert object_id(s.BookSessionRequest(peer_id="peer-1"), None) == "peer-1"


def test_a_request_without_one_names_the_object_in_the_answer() -> None:
    response = m.SubmitMatchRequestResponse(request=m.MatchRequest(request_id="req-9"))
    assert object_id(m.SubmitMatchRequestRequest(idempotency_key="k"), response) == "req-9"


def test_a_part_of_the_request_comes_before_the_answer() -> None:
    request = s.BookSessionResponse(session=s.Session(session_id="ses-1"))  # any message with a part
    response = s.BookSessionResponse(session=s.Session(session_id="ses-2"))
    assert object_id(request, response) == "ses-1"


def test_nothing_to_name() -> None:
    assert object_id(m.SubmitMatchRequestRequest(), m.SubmitMatchRequestResponse(), None) == ""
