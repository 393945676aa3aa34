"""Every list RPC that takes a page_token refuses one it did not issue, with
INVALID_ARGUMENT naming page_token, and keeps following the ones it did."""

from __future__ import annotations

import base64

import grpc
import pytest
from google.protobuf.message import Message

from alongside.api.matcher.v1 import matcher_pb2 as m
from alongside.api.notifier.v1 import notifier_pb2 as n
from alongside.api.scheduler.v1 import scheduler_pb2 as s
from alongside.kit.testing.auth import channel

from ..matcher.conftest import intake, peer
from .calls import STUBS, answer

GARBAGE = ["garbage", "!!", "-1", "0", " 5", "1_0", "p-1", base64.urlsafe_b64encode(b"\xff\xfe|x").decode()]
LISTS: list[tuple[str, str, Message]] = [
    ("matcher", "ListPeers", m.ListPeersRequest()),
    ("matcher", "ListWaitlist", m.ListWaitlistRequest()),
    ("matcher", "ListMatchRequests", m.ListMatchRequestsRequest()),
    ("matcher", "ListAssignments", m.ListAssignmentsRequest(peer_id="p-1")),
    ("scheduler", "ListSessions", s.ListSessionsRequest()),
    ("notifier", "ListNotifications", n.ListNotificationsRequest(peer_id="p-1")),
]


@pytest.mark.parametrize(("service", "rpc", "request_"), LISTS, ids=[f"{x[0]}.{x[1]}" for x in LISTS])
async def test_a_garbage_page_token_is_refused_naming_it(
    ports: dict[str, int], service: str, rpc: str, request_: Message
) -> None:
    wrong = []
    for token in GARBAGE:
        request = type(request_)()
        request.CopyFrom(request_)
        request.page_token = token  # type: ignore[attr-defined]
        code, details = await answer(ports[service], service, rpc, request)
        if code != grpc.StatusCode.INVALID_ARGUMENT or not details.startswith("page_token:"):
            wrong.append(f"{token!r}: {code.name} {details!r}")
    assert not wrong, "\n".join(wrong)


async def test_the_matchers_own_tokens_page_through_peers_and_the_waiting_list(ports: dict[str, int]) -> None:
    async with channel(f"127.0.0.1:{ports['matcher']}") as chan:
        stub = STUBS["matcher"](chan)
        for i in range(3):
            await stub.UpsertPeer(m.UpsertPeerRequest(idempotency_key=f"up-{i}", peer=peer(f"pt-{i}")))
        nobody = m.Preferences(languages=m.Preference(values=["so"], strength=m.STRENGTH_REQUIRED))
        waiting = [
            (await stub.SubmitMatchRequest(intake(f"w-{i}", preferences=nobody))).request.request_id for i in range(3)
        ]
        peers: list[list[str]] = []
        waitlist: list[list[str]] = []
        for listing, out, rpc in (
            (m.ListPeersRequest, peers, "ListPeers"),
            (m.ListWaitlistRequest, waitlist, "ListWaitlist"),
        ):
            token = ""
            while True:
                reply = await getattr(stub, rpc)(listing(page_size=2, page_token=token))
                out.append(
                    [p.peer_id for p in reply.peers] if rpc == "ListPeers" else [r.request_id for r in reply.requests]
                )
                token = reply.next_page_token
                if not token:
                    break
                # A token of one list is no token of the other.
                other = m.ListWaitlistRequest if rpc == "ListPeers" else m.ListPeersRequest
                with pytest.raises(grpc.aio.AioRpcError) as refused:
                    await getattr(stub, "ListWaitlist" if rpc == "ListPeers" else "ListPeers")(other(page_token=token))
                assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert peers == [["pt-0", "pt-1"], ["pt-2"]]
    assert [r for page in waitlist for r in page] == waiting and [len(p) for p in waitlist] == [2, 1]
