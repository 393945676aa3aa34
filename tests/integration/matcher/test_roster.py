"""Roster RPCs through gRPC against real Redis and NATS."""

from __future__ import annotations

import grpc
import pytest

from alongside.api.matcher.v1 import events_pb2 as ev
from alongside.api.matcher.v1 import matcher_pb2 as pb

from .conftest import Matcher, peer, upsert

CSV = b"""peer_id,display_name,types,languages,modalities,age_groups,time_zone,availability,capacity,status
p-ok-1,Fake Person One,recovery_coach;peer_navigator,en;es,phone;video,adult,America/Chicago,\
mon 09:00-12:00; tue 13:00-17:00,4,active
p-bad-tz,Fake Person Two,recovery_coach,en,phone,adult,Mars/Olympus,mon 09:00-12:00,2,active
p-ok-2,Fake Person Three,youth_peer,so,in_person,youth,America/Chicago,wed 10:00-14:00,2,on_leave
p-bad-cap,Fake Person Four,recovery_coach,en,phone,adult,UTC,mon 09:00-12:00,lots,active
p-bad-type,Fake Person Five,wizard,en,phone,adult,UTC,mon 09:00-12:00,1,active
p-bad-win,Fake Person Six,recovery_coach,en,phone,adult,UTC,mon 12:00-09:00,1,active
p-ok-1,Fake Person Dup,recovery_coach,en,phone,adult,UTC,mon 09:00-12:00,1,active
"""


async def test_upsert_get_and_event(matcher: Matcher) -> None:
    reply = await matcher.stub.UpsertPeer(
        pb.UpsertPeerRequest(idempotency_key="k1", peer=peer("p1", languages=["EN", "so"]))
    )
    assert reply.peer.version == 1
    assert list(reply.peer.languages) == ["en", "so"]
    got = (await matcher.stub.GetPeer(pb.GetPeerRequest(peer_id="p1"))).peer
    assert got.capacity == 3 and got.load == 0 and got.time_zone == "America/New_York"
    again = await matcher.stub.UpsertPeer(pb.UpsertPeerRequest(idempotency_key="k2", peer=peer("p1", capacity=5)))
    assert again.peer.version == 2
    events = await matcher.events("peer")
    assert [e.type for e in events] == ["peer.upserted", "peer.upserted"]
    body = events[-1].parse(ev.PeerUpserted)
    assert body.peer_id == "p1" and body.version == 2 and len(body.availability) == 5
    assert b"Test Peer" not in events[-1].body  # no names in events


async def test_set_status_publishes_the_change(matcher: Matcher) -> None:
    await upsert(matcher, peer("p1"))
    reply = await matcher.stub.SetPeerStatus(
        pb.SetPeerStatusRequest(idempotency_key="s1", peer_id="p1", status=pb.PEER_STATUS_ON_LEAVE)
    )
    assert reply.peer.status == pb.PEER_STATUS_ON_LEAVE
    changed = [e for e in await matcher.events("peer") if e.type == "peer.status_changed"]
    body = changed[0].parse(ev.PeerStatusChanged)
    assert (body.status, body.previous_status) == (pb.PEER_STATUS_ON_LEAVE, pb.PEER_STATUS_ACTIVE)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await matcher.stub.SetPeerStatus(pb.SetPeerStatusRequest(idempotency_key="s2", peer_id="nope", status=1))
    assert info.value.code() == grpc.StatusCode.NOT_FOUND


async def test_import_reports_bad_rows_and_imports_only_good_ones(matcher: Matcher) -> None:
    reply = await matcher.stub.ImportRoster(pb.ImportRosterRequest(idempotency_key="imp", csv=CSV))
    assert reply.imported == 2
    errors = {(e.line, e.field) for e in reply.errors}
    assert errors == {
        (3, "time_zone"),
        (5, "capacity"),
        (6, "types"),
        (7, "availability[0]"),
        (8, "peer_id"),
    }
    assert all("Fake Person" not in e.reason and "Mars" not in e.reason for e in reply.errors)
    listed = await matcher.stub.ListPeers(pb.ListPeersRequest())
    assert [p.peer_id for p in listed.peers] == ["p-ok-1", "p-ok-2"]
    ok2 = (await matcher.stub.GetPeer(pb.GetPeerRequest(peer_id="p-ok-2"))).peer
    assert ok2.status == pb.PEER_STATUS_ON_LEAVE
    assert len([e for e in await matcher.events("peer") if e.type == "peer.upserted"]) == 2


async def test_import_dry_run_stores_nothing(matcher: Matcher) -> None:
    reply = await matcher.stub.ImportRoster(pb.ImportRosterRequest(idempotency_key="dry", csv=CSV, dry_run=True))
    assert reply.imported == 0 and len(reply.errors) == 5
    assert not (await matcher.stub.ListPeers(pb.ListPeersRequest())).peers


async def test_list_filters_and_pages(matcher: Matcher) -> None:
    for i in range(7):
        langs = ["es"] if i % 2 else ["en"]
        await upsert(matcher, peer(f"p{i}", languages=langs))
    first = await matcher.stub.ListPeers(pb.ListPeersRequest(page_size=3))
    second = await matcher.stub.ListPeers(pb.ListPeersRequest(page_size=3, page_token=first.next_page_token))
    third = await matcher.stub.ListPeers(pb.ListPeersRequest(page_size=3, page_token=second.next_page_token))
    ids = [p.peer_id for page in (first, second, third) for p in page.peers]
    assert ids == [f"p{i}" for i in range(7)]
    assert third.next_page_token == ""
    spanish = await matcher.stub.ListPeers(pb.ListPeersRequest(language="es"))
    assert [p.peer_id for p in spanish.peers] == ["p1", "p3", "p5"]
