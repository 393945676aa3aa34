"""Size bounds on requests, and list replies that stay under the client's
limit whatever the roster holds."""

from __future__ import annotations

import grpc
import pytest

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.kit import replies

from .conftest import Matcher, intake, peer, upsert

EMOJI = "\U0001f642"  # four bytes in UTF-8, one character


async def test_a_3_mb_display_name_is_refused_naming_the_field(matcher: Matcher) -> None:
    big = peer("p-big", display_name="Zebulon " * 400_000)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await matcher.stub.UpsertPeer(pb.UpsertPeerRequest(idempotency_key="big", peer=big))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert info.value.details() == "peer.display_name: at most 200 characters"
    assert not (await matcher.stub.ListPeers(pb.ListPeersRequest())).peers
    assert await matcher.events("peer") == []


async def test_a_request_over_4_mib_is_refused_unread(matcher: Matcher) -> None:
    big = peer("p-huge", display_name="x" * (5 * 1024 * 1024))
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await matcher.stub.UpsertPeer(pb.UpsertPeerRequest(idempotency_key="huge", peer=big))
    assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


async def test_an_oversize_tag_names_its_index(matcher: Matcher) -> None:
    bad = peer("p-tags", cultures=["a", "b", "c" * 65])
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await matcher.stub.UpsertPeer(pb.UpsertPeerRequest(idempotency_key="tags", peer=bad))
    assert info.value.details() == "peer.cultures[2]: at most 64 characters"


def fattest(peer_id: str) -> pb.Peer:
    """A peer as large as the bounds allow (about 50 KB on the wire)."""

    def tags(kind: str) -> list[str]:
        return [f"{kind}{i:02d}{EMOJI * 58}" for i in range(50)]

    return peer(
        peer_id,
        display_name=EMOJI * 200,
        certifications=tags("C"),
        cultures=tags("c"),
        lived_experience=tags("l"),
        pathways=tags("p"),
    )


async def test_list_peers_pages_stay_under_the_reply_budget(matcher: Matcher) -> None:
    # 90 of the largest peers are ~4.5 MB: one page of them would pass the
    # 4 MiB every client accepts, and nobody could list the roster.
    ids = [f"fat-{i:03d}" for i in range(90)]
    for peer_id in ids:
        await upsert(matcher, fattest(peer_id))
    seen: list[str] = []
    token, pages = "", 0
    while True:
        page = await matcher.stub.ListPeers(pb.ListPeersRequest(page_size=500, page_token=token))
        assert page.ByteSize() <= replies.REPLY_BUDGET_BYTES
        seen += [p.peer_id for p in page.peers]
        pages += 1
        token = page.next_page_token
        if not token:
            break
    assert seen == ids
    assert pages >= 5


async def test_waitlist_pages_end_at_the_budget_and_continue(matcher: Matcher, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(4):  # nobody on the roster: all four wait
        await matcher.stub.SubmitMatchRequest(intake(f"wait-{i}"))
    everything = await matcher.stub.ListWaitlist(pb.ListWaitlistRequest(page_size=10))
    assert len(everything.requests) == 4 and not everything.next_page_token
    monkeypatch.setattr(replies, "REPLY_BUDGET_BYTES", 1)  # room for the one item a page always holds
    seen, token = [], ""
    while True:
        page = await matcher.stub.ListWaitlist(pb.ListWaitlistRequest(page_size=10, page_token=token))
        assert len(page.requests) == 1
        seen += [r.request_id for r in page.requests]
        token = page.next_page_token
        if not token:
            break
    assert seen == [r.request_id for r in everything.requests]
