"""Bad input gets INVALID_ARGUMENT naming the field, and changes nothing."""

from __future__ import annotations

import grpc
import pytest

from alongside.api.common.v1 import types_pb2
from alongside.api.matcher.v1 import matcher_pb2 as pb

from .conftest import Matcher, intake, peer, upsert

CANARY = "Canary Zebulon"


def participant(**overrides: object) -> pb.Participant:
    base: dict[str, object] = {
        "participant_ref": "ref-x",
        "age_band": pb.AGE_BAND_ADULT,
        "time_zone": "America/New_York",
        "availability": [types_pb2.WeeklyWindow(day=1, start_minute=540, end_minute=1020)],
    }
    base.update(overrides)
    return pb.Participant(**base)  # type: ignore[arg-type]


BAD_INTAKES = [
    ("peer_types[0]", {"peer_types": [99]}),
    ("peer_types", {"peer_types": []}),
    ("urgency", {"urgency": 42}),
    ("participant.time_zone", {"participant": participant(time_zone="Mars/Base")}),
    ("participant.availability", {"participant": participant(availability=[])}),
    (
        "participant.availability[0]",
        {"participant": participant(availability=[types_pb2.WeeklyWindow(day=1, start_minute=600, end_minute=540)])},
    ),
    (
        "participant.availability[0].day",
        {"participant": participant(availability=[types_pb2.WeeklyWindow(day=9, start_minute=540, end_minute=600)])},
    ),
    ("participant.age_band", {"participant": participant(age_band=0)}),
    ("acuity", {"acuity": -1}),
    ("excluded_peer_ids", {"excluded_peer_ids": [f"p{i}" for i in range(501)]}),
    ("preferences.languages.strength", {"preferences": pb.Preferences(languages=pb.Preference(values=["so"]))}),
    ("participant.participant_ref", {"participant": participant(participant_ref=CANARY)}),
    ("idempotency_key", {"idempotency_key": ""}),
]


@pytest.mark.parametrize(("field", "overrides"), BAD_INTAKES, ids=[f for f, _ in BAD_INTAKES])
async def test_bad_intake_names_the_field_and_stores_nothing(
    matcher: Matcher, field: str, overrides: dict[str, object]
) -> None:
    await upsert(matcher, peer("p1"))
    before = len(await matcher.events("match"))
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await matcher.stub.SubmitMatchRequest(intake("bad", **overrides))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = info.value.details() or ""
    assert details.split(":")[0] == field, details
    assert CANARY not in details and "Mars" not in details
    assert len(await matcher.events("match")) == before
    assert not (await matcher.stub.ListWaitlist(pb.ListWaitlistRequest())).requests
    deps = matcher.runtime.deps
    assert deps is not None
    requests = [k async for k in deps.redis.scan_iter(match=deps.keys.pattern("req", "*"))]
    assert requests == []


BAD_PEERS = [
    ("peer.time_zone", peer("p9", time_zone="Nowhere/City")),
    ("peer.capacity", peer("p9", capacity=-2)),
    ("peer.types[0]", peer("p9", types=[77])),
    ("peer.types", peer("p9", types=[])),
    ("peer.peer_id", peer("")),
    (
        "peer.availability[0]",
        peer("p9", availability=[types_pb2.WeeklyWindow(day=2, start_minute=900, end_minute=900)]),
    ),
]


@pytest.mark.parametrize(("field", "bad"), BAD_PEERS, ids=[f for f, _ in BAD_PEERS])
async def test_bad_peer_names_the_field_and_stores_nothing(matcher: Matcher, field: str, bad: pb.Peer) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await matcher.stub.UpsertPeer(pb.UpsertPeerRequest(idempotency_key="x", peer=bad))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (info.value.details() or "").split(":")[0] == field
    assert not (await matcher.stub.ListPeers(pb.ListPeersRequest())).peers
    assert await matcher.events("peer") == []


async def test_accepting_an_unknown_peer_or_request_is_not_found(matcher: Matcher) -> None:
    await upsert(matcher, peer("p1"))
    request = (await matcher.stub.SubmitMatchRequest(intake("i"))).request
    for request_id, peer_id in ((request.request_id, "ghost"), ("req-ghost", "p1")):
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await matcher.stub.AcceptMatch(
                pb.AcceptMatchRequest(idempotency_key=f"k-{peer_id}", request_id=request_id, peer_id=peer_id)
            )
        assert info.value.code() == grpc.StatusCode.NOT_FOUND
    assert (await matcher.stub.GetPeer(pb.GetPeerRequest(peer_id="p1"))).peer.load == 0
