"""The in-app inbox through gRPC: every kind lands, List pages and filters,
Acknowledge marks read, Watch resumes from the last id seen."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import grpc
import pytest

from alongside.api.notifier.v1 import events_pb2
from alongside.api.notifier.v1 import notifier_pb2 as pb
from alongside.kit.ids import new_id
from alongside.kit.testing.wait import eventually

from .conftest import Start
from .harness import INBOX, Running, accepted, closed, session

SOON = datetime.now(UTC) + timedelta(days=3)


async def fill(notifier: Running, peer_id: str, count: int) -> list[pb.Notification]:
    for _ in range(count):
        await notifier.publish(accepted(peer_id))

    async def arrived() -> bool:
        return len(await notifier.items(peer_id, page_size=200)) == count

    await eventually(arrived, what=f"{count} inbox items")
    return await notifier.items(peer_id, page_size=200)


async def test_every_notified_kind_lands_in_the_inbox(start_notifier: Start) -> None:
    notifier = await start_notifier()
    peer = new_id("p")
    events = [
        accepted(peer, match_id="m-7"),
        closed(peer, match_id="m-7"),
        session("booked", peer, SOON, session_id="p-7~s-7", match_id="m-7"),
        session("rescheduled", peer, SOON, session_id="p-7~s-7", previous_start=SOON - timedelta(days=1)),
        session("cancelled", peer, SOON, session_id="p-7~s-7"),
        session("reminder_due", peer, SOON, session_id="p-7~s-7", reminder_id="rem-1", offset_minutes=1440),
    ]
    for event in events:
        await notifier.publish(event)

    async def all_in() -> bool:
        return len(await notifier.items(peer)) == len(events)

    await eventually(all_in, what="six inbox items")
    items = await notifier.items(peer)
    assert {i.kind for i in items} == {
        pb.KIND_ASSIGNMENT_NEW,
        pb.KIND_MATCH_CLOSED,
        pb.KIND_SESSION_BOOKED,
        pb.KIND_SESSION_RESCHEDULED,
        pb.KIND_SESSION_CANCELLED,
        pb.KIND_SESSION_REMINDER,
    }
    by_kind = {i.kind: i for i in items}
    assert by_kind[pb.KIND_ASSIGNMENT_NEW].title == "You have a new assignment in Alongside"
    assert by_kind[pb.KIND_ASSIGNMENT_NEW].refs["match_id"] == "m-7"
    assert by_kind[pb.KIND_SESSION_REMINDER].refs["session_id"] == "p-7~s-7"
    assert "(your time)" in by_kind[pb.KIND_SESSION_BOOKED].body  # the start, in the peer's zone
    for item in items:
        assert item.peer_id == peer and not item.read
        assert [(d.channel, d.status) for d in item.deliveries] == [(INBOX, pb.DELIVERY_STATUS_SENT)]


async def test_inbox_writes_can_be_announced(start_notifier: Start) -> None:
    notifier = await start_notifier(inbox_sent_events=True)
    published = await notifier.collect()
    peer = new_id("p")
    event = await notifier.publish(accepted(peer))
    await eventually(lambda: len(published.of_type("notification.sent")) == 1, what="notification.sent")
    sent = events_pb2.NotificationSent.FromString(published.of_type("notification.sent")[0].data)
    assert (sent.peer_id, sent.channel, sent.source_event_id) == (peer, INBOX, event.id)
    assert sent.notification_id == (await notifier.items(peer))[0].notification_id


async def test_unread_filter_and_acknowledge(start_notifier: Start) -> None:
    notifier = await start_notifier()
    peer = new_id("p")
    items = await fill(notifier, peer, 3)
    ids = [items[0].notification_id, items[1].notification_id]
    request = pb.AcknowledgeRequest(idempotency_key="ack-1", peer_id=peer, notification_ids=[*ids, "nt-unknown"])
    assert (await notifier.stub.Acknowledge(request)).acknowledged == 2
    unread = await notifier.items(peer, unread_only=True)
    assert [i.notification_id for i in unread] == [items[2].notification_id]
    assert {i.notification_id for i in await notifier.items(peer) if i.read} == set(ids)
    # A replay returns the first answer; a new request counts only what is still unread.
    assert (await notifier.stub.Acknowledge(request)).acknowledged == 2
    again = pb.AcknowledgeRequest(idempotency_key="ack-2", peer_id=peer, notification_ids=ids)
    assert (await notifier.stub.Acknowledge(again)).acknowledged == 0


async def test_pages_are_newest_first_without_overlap(start_notifier: Start) -> None:
    notifier = await start_notifier()
    peer = new_id("p")
    everything = await fill(notifier, peer, 5)
    seen: list[str] = []
    token = ""
    for expected in (2, 2, 1):
        reply = await notifier.stub.ListNotifications(
            pb.ListNotificationsRequest(peer_id=peer, page_size=2, page_token=token)
        )
        assert len(reply.notifications) == expected
        seen += [i.notification_id for i in reply.notifications]
        token = reply.next_page_token
    assert token == ""
    assert seen == [i.notification_id for i in everything]


async def test_unread_pages_skip_read_items(start_notifier: Start) -> None:
    notifier = await start_notifier()
    peer = new_id("p")
    items = await fill(notifier, peer, 5)
    read = [items[1].notification_id, items[2].notification_id]
    await notifier.stub.Acknowledge(pb.AcknowledgeRequest(idempotency_key="a", peer_id=peer, notification_ids=read))
    first = await notifier.stub.ListNotifications(
        pb.ListNotificationsRequest(peer_id=peer, unread_only=True, page_size=2)
    )
    second = await notifier.stub.ListNotifications(
        pb.ListNotificationsRequest(peer_id=peer, unread_only=True, page_size=2, page_token=first.next_page_token)
    )
    assert [i.notification_id for i in first.notifications] == [items[0].notification_id, items[3].notification_id]
    assert [i.notification_id for i in second.notifications] == [items[4].notification_id]
    assert second.next_page_token == ""


async def test_watch_resumes_after_the_last_id_seen(start_notifier: Start) -> None:
    notifier = await start_notifier()
    peer = new_id("p")
    first, second = reversed(await fill(notifier, peer, 2))
    stream = notifier.stub.WatchNotifications(
        pb.WatchNotificationsRequest(peer_id=peer, after_id=first.notification_id)
    )
    got = await asyncio.wait_for(stream.read(), 10)
    assert got.notification.notification_id == second.notification_id
    third = await notifier.publish(accepted(peer))
    got = await asyncio.wait_for(stream.read(), 10)
    assert got.notification.refs["event_id"] == third.id
    stream.cancel()


async def test_watch_without_an_id_sees_only_new_items(start_notifier: Start) -> None:
    notifier = await start_notifier()
    peer = new_id("p")
    await fill(notifier, peer, 1)
    stream = notifier.stub.WatchNotifications(pb.WatchNotificationsRequest(peer_id=peer))
    await stream.wait_for_connection()
    # The stream starts from the newest entry; wait until it has, then publish.
    fresh = await notifier.publish(accepted(peer))
    got = await asyncio.wait_for(stream.read(), 10)
    assert got.notification.refs["event_id"] == fresh.id
    stream.cancel()


async def test_watch_ends_cleanly_when_the_server_drains(start_notifier: Start) -> None:
    notifier = await start_notifier()
    stream = notifier.stub.WatchNotifications(pb.WatchNotificationsRequest(peer_id=new_id("p")))
    await stream.wait_for_connection()
    await notifier.runtime.stop()
    assert await asyncio.wait_for(stream.read(), 10) == grpc.aio.EOF
    assert await stream.code() == grpc.StatusCode.OK


async def test_watch_from_an_unknown_id_is_not_found(start_notifier: Start) -> None:
    notifier = await start_notifier()
    stream = notifier.stub.WatchNotifications(pb.WatchNotificationsRequest(peer_id="p-1", after_id="nt-nope"))
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stream.read()
    assert info.value.code() == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize(
    ("request_fields", "field"),
    [
        ({"peer_id": "bad id"}, "peer_id"),
        ({"peer_id": "p-1", "page_size": 500}, "page_size"),
        ({"peer_id": "p-1", "page_token": "not-a-token"}, "page_token"),
    ],
)
async def test_bad_list_requests_name_the_field(
    start_notifier: Start, request_fields: dict[str, object], field: str
) -> None:
    notifier = await start_notifier()
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await notifier.stub.ListNotifications(pb.ListNotificationsRequest(**request_fields))  # type: ignore[arg-type]
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (info.value.details() or "").startswith(field)
