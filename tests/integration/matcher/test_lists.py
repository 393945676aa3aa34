"""The lists the console needs, against a real matcher: match requests by
status with filters and reference search (ListMatchRequests), a peer's own
assignments under consent (ListAssignments), and the roster searched by name
(ListPeers.name_contains). Who may list what, bounds, and the audit records."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import grpc
import pytest

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.api.matcher.v1 import matcher_pb2_grpc
from alongside.kit.testing.auth import channel
from alongside.kit.testing.wait import eventually

from ..auth.test_audit import records
from ..consent.conftest import consent
from .conftest import MON_FRI_9_17, Matcher, intake, peer, upsert

ListCall = Callable[[matcher_pb2_grpc.MatcherServiceStub], Awaitable[Any]]


async def as_role(m: Matcher, role: str, subject: str, call: ListCall) -> Any:
    async with channel(f"127.0.0.1:{m.runtime.port}", role=role, subject=subject) as chan:
        return await call(matcher_pb2_grpc.MatcherServiceStub(chan))


async def refused(m: Matcher, role: str, subject: str, call: ListCall) -> grpc.StatusCode:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await as_role(m, role, subject, call)
    return caught.value.code()


async def listed(m: Matcher, **fields: Any) -> list[str]:
    """Every page of ListMatchRequests, its request ids in order."""
    ids, token = [], ""
    while True:
        reply = await m.stub.ListMatchRequests(pb.ListMatchRequestsRequest(page_token=token, **fields))
        ids += [r.request_id for r in reply.requests]
        token = reply.next_page_token
        if not token:
            return ids


async def test_open_requests_by_status_filter_and_reference(matcher: Matcher) -> None:
    await upsert(matcher, peer("lp-1"))
    short = (await matcher.stub.SubmitMatchRequest(intake("lr-short-1"))).request
    youth = (await matcher.stub.SubmitMatchRequest(intake(
        "lr-wait-2",
        participant=pb.Participant(participant_ref="ref-lr-wait-2", age_band=pb.AGE_BAND_YOUTH,
                                   time_zone="America/New_York", availability=MON_FRI_9_17),
        peer_types=[pb.PEER_TYPE_YOUTH_PEER],
        urgency=pb.URGENCY_URGENT,
    ))).request
    assert (short.status, youth.status) == (pb.REQUEST_STATUS_SHORTLISTED, pb.REQUEST_STATUS_WAITLISTED)
    accepted = (await matcher.stub.SubmitMatchRequest(intake("lr-acc-3"))).request
    await matcher.stub.AcceptMatch(
        pb.AcceptMatchRequest(idempotency_key="acc-lr", request_id=accepted.request_id, peer_id="lp-1")
    )

    # Open by default (oldest first); matched ones only when asked.
    assert await listed(matcher) == [short.request_id, youth.request_id]
    assert await listed(matcher, statuses=[pb.REQUEST_STATUS_MATCHED]) == [accepted.request_id]
    assert await listed(matcher, statuses=[pb.REQUEST_STATUS_WAITLISTED]) == [youth.request_id]
    assert await listed(matcher, urgency=pb.URGENCY_URGENT) == [youth.request_id]
    assert await listed(matcher, peer_type=pb.PEER_TYPE_YOUTH_PEER) == [youth.request_id]
    assert await listed(matcher, age_band=pb.AGE_BAND_ADULT) == [short.request_id]
    assert await listed(matcher, min_days_waiting=1) == []  # all made just now
    # Page by page, one at a time: the same list.
    assert await listed(matcher, page_size=1) == [short.request_id, youth.request_id]
    # The reference: exact, then its start; never echoed back.
    assert await listed(matcher, participant_ref="ref-lr-wait-2") == [youth.request_id]
    assert await listed(matcher, participant_ref="ref-lr-", ref_prefix=True) == [short.request_id, youth.request_id]
    assert await listed(matcher, participant_ref="ref-lr-wait") == []  # exact means exact
    reply = await matcher.stub.ListMatchRequests(pb.ListMatchRequestsRequest(participant_ref="ref-lr-short-1"))
    [found] = reply.requests
    assert (found.status, found.candidate_count, found.age_band) == (pb.REQUEST_STATUS_SHORTLISTED, 1,
                                                                     pb.AGE_BAND_ADULT)
    assert "ref-lr" not in str(reply)

    # Intake staff may list; a peer may not.
    staff = await as_role(matcher, "intake", "staff-lr", lambda s: s.ListMatchRequests(pb.ListMatchRequestsRequest(
        participant_ref="ref-lr-", ref_prefix=True)))
    assert [r.request_id for r in staff.requests] == [short.request_id, youth.request_id]
    assert await refused(matcher, "peer", "lp-1", lambda s: s.ListMatchRequests(
        pb.ListMatchRequestsRequest())) == grpc.StatusCode.PERMISSION_DENIED
    # The audit record of the search names the requests it disclosed, not the reference.
    [record] = await records(matcher.runtime, actor="staff-lr")
    assert record.action.endswith("/ListMatchRequests")
    assert record.object_id == f"{short.request_id},{youth.request_id}"
    # Filtering the trail by one of those ids finds the list that disclosed it.
    [disclosing] = await records(matcher.runtime, actor="staff-lr", object_id=youth.request_id)
    assert disclosing.action.endswith("/ListMatchRequests")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"page_size": 101}, "page_size"),
        ({"statuses": [pb.REQUEST_STATUS_ERASED]}, "statuses"),
        ({"statuses": [99]}, "statuses"),
        ({"urgency": 42}, "urgency"),
        ({"min_days_waiting": -1}, "min_days_waiting"),
        ({"participant_ref": "not a ref!"}, "participant_ref"),
        ({"participant_ref": "x" * 65}, "participant_ref"),
        ({"ref_prefix": True}, "participant_ref"),
        ({"page_token": "garbage"}, "page_token"),
    ],
)
async def test_a_bad_list_request_names_its_field(matcher: Matcher, fields: dict[str, Any], field: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await matcher.stub.ListMatchRequests(pb.ListMatchRequestsRequest(**fields))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in (caught.value.details() or "")


async def test_a_peer_lists_their_own_assignments_as_consent_allows(matcher: Matcher) -> None:
    await upsert(matcher, peer("la-1", capacity=5), peer("la-2"))
    ids = []
    for key, given in (("la-consent", consent("assigned-peer")), ("la-none", None)):
        extra = {"consent": given} if given is not None else {}
        submitted = (await matcher.stub.SubmitMatchRequest(intake(key, excluded_peer_ids=["la-2"], **extra))).request
        reply = await matcher.stub.AcceptMatch(
            pb.AcceptMatchRequest(idempotency_key=f"acc-{key}", request_id=submitted.request_id, peer_id="la-1")
        )
        ids.append(reply.match.match_id)

    mine = await as_role(matcher, "peer", "la-1", lambda s: s.ListAssignments(
        pb.ListAssignmentsRequest(peer_id="la-1")))
    by_id = {a.match_id: a for a in mine.assignments}
    assert set(by_id) == set(ids)
    under_consent, without = by_id[ids[0]], by_id[ids[1]]
    assert under_consent.disclosed and under_consent.participant.participant_ref == "ref-la-consent"
    assert "42 CFR part 2" in under_consent.notice
    assert not without.disclosed and without.reason and not without.HasField("participant") and not without.notice

    # Page by page: the same matches.
    first = await as_role(matcher, "peer", "la-1", lambda s: s.ListAssignments(
        pb.ListAssignmentsRequest(peer_id="la-1", page_size=1)))
    assert len(first.assignments) == 1 and first.next_page_token
    rest = await as_role(matcher, "peer", "la-1", lambda s: s.ListAssignments(
        pb.ListAssignmentsRequest(peer_id="la-1", page_size=1, page_token=first.next_page_token)))
    assert {first.assignments[0].match_id, rest.assignments[0].match_id} == set(ids)

    # Another peer's list, or intake staff: refused. A manager sees any peer's.
    assert await refused(matcher, "peer", "la-2", lambda s: s.ListAssignments(
        pb.ListAssignmentsRequest(peer_id="la-1"))) == grpc.StatusCode.PERMISSION_DENIED
    assert await refused(matcher, "intake", "staff-la", lambda s: s.ListAssignments(
        pb.ListAssignmentsRequest(peer_id="la-1"))) == grpc.StatusCode.PERMISSION_DENIED
    assert await refused(matcher, "peer", "la-1", lambda s: s.ListAssignments(
        pb.ListAssignmentsRequest(peer_id="la-1", page_size=51))) == grpc.StatusCode.INVALID_ARGUMENT
    managed = await as_role(matcher, "manager", "m-la", lambda s: s.ListAssignments(
        pb.ListAssignmentsRequest(peer_id="la-1")))
    assert len(managed.assignments) == 2

    # Closed matches only when asked.
    await matcher.stub.CloseMatch(pb.CloseMatchRequest(
        idempotency_key="close-la", match_id=ids[1], reason=pb.CLOSE_REASON_COMPLETED))
    active = await matcher.stub.ListAssignments(pb.ListAssignmentsRequest(peer_id="la-1"))
    assert [a.match_id for a in active.assignments] == [ids[0]]
    every = await matcher.stub.ListAssignments(pb.ListAssignmentsRequest(peer_id="la-1", include_closed=True))
    assert len(every.assignments) == 2

    [record] = await records(matcher.runtime, actor="m-la")
    assert set(record.object_id.split(",")) == set(ids)


async def test_the_roster_is_searched_by_name(matcher: Matcher) -> None:
    await upsert(matcher, peer("ln-1", display_name="Amaru Quispe"), peer("ln-2", display_name="Beatriz Soto"),
                 peer("ln-3", display_name="Quinn Amaru", status=pb.PEER_STATUS_ON_LEAVE))
    reply = await matcher.stub.ListPeers(pb.ListPeersRequest(name_contains="amaru"))
    assert [p.peer_id for p in reply.peers] == ["ln-1", "ln-3"]
    reply = await matcher.stub.ListPeers(pb.ListPeersRequest(name_contains="AMARU", status=pb.PEER_STATUS_ACTIVE))
    assert [p.peer_id for p in reply.peers] == ["ln-1"]
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await matcher.stub.ListPeers(pb.ListPeersRequest(name_contains="x" * 65))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "name_contains" in (caught.value.details() or "")


async def test_what_an_older_matcher_wrote_is_indexed_for_the_lists_once(matcher: Matcher) -> None:
    from alongside.matcher.adapters.store import INDEXED_STATUSES, MatcherStore

    await upsert(matcher, peer("lo-1"))
    waiting = (await matcher.stub.SubmitMatchRequest(intake("lo-old-1"))).request
    taken = (await matcher.stub.SubmitMatchRequest(intake("lo-old-2"))).request
    match = (await matcher.stub.AcceptMatch(
        pb.AcceptMatchRequest(idempotency_key="acc-lo", request_id=taken.request_id, peer_id="lo-1"))).match
    deps = matcher.runtime.deps
    assert deps is not None
    store = MatcherStore(deps.redis, deps.keys)
    async def indexed() -> bool:
        return bool(await store.r.exists(store.k.lists_indexed))

    await eventually(indexed, what="the running matcher indexed what it found at start")
    # As an older matcher left them: no list indexes at all.
    await store.r.delete(store.k.lists_indexed, store.k.matches_of("lo-1"),
                         *(store.k.requests_in(s) for s in INDEXED_STATUSES))
    assert await listed(matcher, statuses=[pb.REQUEST_STATUS_SHORTLISTED, pb.REQUEST_STATUS_MATCHED]) == []

    assert await store.index_for_lists(batch=1) == 3
    assert await listed(matcher) == [waiting.request_id]
    assert await listed(matcher, statuses=[pb.REQUEST_STATUS_MATCHED]) == [taken.request_id]
    mine = await matcher.stub.ListAssignments(pb.ListAssignmentsRequest(peer_id="lo-1"))
    assert [a.match_id for a in mine.assignments] == [match.match_id]
    assert await store.index_for_lists() == 0  # once
