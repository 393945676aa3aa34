"""A channel that is down is retried, then FAILED and dead-lettered; it never
holds up another channel or another peer."""

from __future__ import annotations

import grpc

from alongside.api.notifier.v1 import events_pb2
from alongside.api.notifier.v1 import notifier_pb2 as pb
from alongside.kit.events.streams import CATALOGUE, stream_name
from alongside.kit.ids import new_id
from alongside.kit.testing.servers import ValkeyServer, free_port
from alongside.kit.testing.smtp import SmtpSink
from alongside.kit.testing.wait import eventually

from .conftest import Start
from .harness import EMAIL, INBOX, WEBHOOK, Running, accepted
from .receivers import WebhookReceiver


async def status_of(notifier: Running, peer: str, channel: int) -> tuple[int, str, int]:
    delivery = await notifier.delivery(peer, channel)
    return (delivery.status, delivery.reason, delivery.attempts) if delivery else (0, "", 0)


async def test_smtp_down_is_retried_then_failed_and_dead_lettered(start_notifier: Start) -> None:
    notifier = await start_notifier(smtp_port=free_port())  # nothing listens there
    published = await notifier.collect()
    dead = await notifier.collect("dlq.>")
    peer = new_id("p")
    await notifier.set_prefs(peer, channels=[INBOX, EMAIL], email="peer@example.org")
    event = await notifier.publish(accepted(peer))

    async def failed() -> bool:
        return (await status_of(notifier, peer, EMAIL))[0] == pb.DELIVERY_STATUS_FAILED

    await eventually(failed, what="email FAILED")
    assert await status_of(notifier, peer, EMAIL) == (pb.DELIVERY_STATUS_FAILED, "smtp_unavailable", 3)
    assert await status_of(notifier, peer, INBOX) == (pb.DELIVERY_STATUS_SENT, "", 1)
    await eventually(lambda: len(dead.msgs) == 1 and len(published.of_type("notification.failed")) == 1)
    (copy,) = dead.msgs
    assert copy.subject == f"{notifier.namespace}.dlq.notifier.delivery"
    body = events_pb2.NotificationFailed.FromString(copy.data)
    assert (body.source_event_id, body.channel, body.reason, body.attempts) == (event.id, EMAIL, "smtp_unavailable", 3)


async def test_one_failing_channel_blocks_neither_the_other_nor_other_peers(
    start_notifier: Start, smtp_sink: SmtpSink, webhook: WebhookReceiver
) -> None:
    webhook.status = 503
    notifier = await start_notifier(delivery_backoff_base_seconds=0.4, delivery_jitter="equal")
    both, other = new_id("p"), new_id("p")
    await notifier.set_prefs(both, channels=[INBOX, EMAIL, WEBHOOK], email="both@example.org", webhook_url=webhook.url)
    await notifier.set_prefs(other, channels=[INBOX, EMAIL], email="other@example.org")
    await notifier.publish(accepted(both))
    for _ in range(3):
        await notifier.publish(accepted(other))

    await eventually(lambda: len(smtp_sink.mails) == 4, what="all four emails")
    # The webhook is still between retries: backoff 0.4 s, then 0.8 s (at least half of each).
    webhook_now = await status_of(notifier, both, WEBHOOK)
    assert webhook_now[0] == pb.DELIVERY_STATUS_PENDING and webhook_now[1] == "http_503"
    assert await status_of(notifier, both, EMAIL) == (pb.DELIVERY_STATUS_SENT, "", 1)

    async def webhook_failed() -> bool:
        return (await status_of(notifier, both, WEBHOOK))[0] == pb.DELIVERY_STATUS_FAILED

    await eventually(webhook_failed, what="webhook FAILED")
    assert len(webhook.received) == 3 and len(smtp_sink.mails) == 4


async def test_an_event_that_arrives_while_redis_is_down_lands_once_it_is_back(
    start_notifier: Start, own_valkey: ValkeyServer
) -> None:
    notifier = await start_notifier(redis_url=own_valkey.url, consumer_backoff_base_seconds=0.1)
    peer = new_id("p")
    own_valkey.stop()
    await notifier.publish(accepted(peer))
    stream = stream_name(notifier.namespace, next(s for s in CATALOGUE if s.name == "MATCH"))

    async def tried_twice() -> bool:
        info = await notifier.js.consumer_info(stream, "notifier-match")
        return (info.delivered.consumer_seq or 0) >= 2

    await eventually(tried_twice, what="the event handled and nak'ed at least twice")
    own_valkey.start()

    async def landed() -> bool:
        try:
            return len(await notifier.items(peer)) == 1
        except grpc.aio.AioRpcError as exc:  # Valkey is back, but this replica may not have reconnected yet
            if exc.code() != grpc.StatusCode.UNAVAILABLE:
                raise
            return False

    await eventually(landed, timeout=20, what="the inbox item after the outage")
