"""Signed webhooks to a real local HTTP receiver that checks the signature."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from prometheus_client import REGISTRY

from alongside.api.notifier.v1 import events_pb2
from alongside.api.notifier.v1 import notifier_pb2 as pb
from alongside.kit.ids import new_id
from alongside.kit.testing.wait import eventually

from .conftest import Start
from .harness import INBOX, WEBHOOK, Running, session
from .receivers import WebhookReceiver

START = datetime.now(UTC) + timedelta(days=2)


async def hook_peer(notifier: Running, receiver: WebhookReceiver) -> str:
    peer = new_id("p")
    await notifier.set_prefs(peer, channels=[INBOX, WEBHOOK], webhook_url=receiver.url)
    return peer


def deliveries(channel: str, outcome: str) -> float:
    """The delivery counter the metrics endpoint serves."""
    labels = {"channel": channel, "outcome": outcome}
    return REGISTRY.get_sample_value("alongside_notification_deliveries_total", labels) or 0.0


async def final_state(notifier: Running, peer: str) -> pb.Delivery:
    async def finished() -> bool:
        d = await notifier.delivery(peer, WEBHOOK)
        return d is not None and d.status in (pb.DELIVERY_STATUS_SENT, pb.DELIVERY_STATUS_FAILED)

    await eventually(finished, what="the webhook delivery to finish")
    delivery = await notifier.delivery(peer, WEBHOOK)
    assert delivery is not None
    return delivery


async def test_a_webhook_is_signed_and_keyed_by_the_event(start_notifier: Start, webhook: WebhookReceiver) -> None:
    notifier = await start_notifier()
    peer = await hook_peer(notifier, webhook)
    event = await notifier.publish(session("reminder_due", peer, START, reminder_id="r-1", offset_minutes=60))
    delivery = await final_state(notifier, peer)
    assert delivery.status == pb.DELIVERY_STATUS_SENT
    (hook,) = webhook.received
    assert hook.signature_ok
    assert webhook.idempotency_keys() == [event.id]
    payload = json.loads(hook.body)
    assert set(payload) == {"kind", "notification_id", "event_id", "text"}
    assert payload["kind"] == "session_reminder" and payload["event_id"] == event.id
    assert payload["text"].startswith("Reminder: you have a session on ")


async def test_a_failing_webhook_is_retried_with_backoff_then_failed(
    start_notifier: Start, webhook: WebhookReceiver
) -> None:
    webhook.status = 500
    counted = {outcome: deliveries("webhook", outcome) for outcome in ("retry", "failed", "sent")}
    notifier = await start_notifier(delivery_backoff_base_seconds=0.1, delivery_jitter="equal")
    published = await notifier.collect()
    dead = await notifier.collect("dlq.notifier.delivery")
    peer = await hook_peer(notifier, webhook)
    event = await notifier.publish(session("booked", peer, START))
    delivery = await final_state(notifier, peer)

    assert (delivery.status, delivery.reason, delivery.attempts) == (pb.DELIVERY_STATUS_FAILED, "http_500", 3)
    assert webhook.idempotency_keys() == [event.id] * 3
    first, second, third = (h.at for h in webhook.received)
    # Equal jitter waits at least half the backoff: 0.1 s, then 0.2 s.
    assert second - first >= 0.05 and third - second >= 0.1
    await eventually(lambda: len(published.of_type("notification.failed")) == 1 and len(dead.msgs) == 1)
    failed = events_pb2.NotificationFailed.FromString(published.of_type("notification.failed")[0].data)
    assert (failed.peer_id, failed.channel, failed.reason, failed.attempts) == (peer, WEBHOOK, "http_500", 3)
    assert failed.source_event_id == event.id
    assert events_pb2.NotificationFailed.FromString(dead.msgs[0].data) == failed
    assert {outcome: deliveries("webhook", outcome) - n for outcome, n in counted.items()} == {
        "retry": 2,
        "failed": 1,
        "sent": 0,
    }
    assert not published.of_type("notification.sent") or all(
        events_pb2.NotificationSent.FromString(m.data).channel == INBOX for m in published.of_type("notification.sent")
    )


async def test_a_webhook_that_times_out_is_retried_then_failed(start_notifier: Start, webhook: WebhookReceiver) -> None:
    webhook.hang_s = 3.0
    notifier = await start_notifier(webhook_timeout_seconds=0.3)
    peer = await hook_peer(notifier, webhook)
    await notifier.publish(session("booked", peer, START))
    delivery = await final_state(notifier, peer)
    assert (delivery.status, delivery.reason, delivery.attempts) == (pb.DELIVERY_STATUS_FAILED, "webhook_timeout", 3)
    assert len(webhook.received) == 3


async def test_a_refused_webhook_is_not_retried(start_notifier: Start, webhook: WebhookReceiver) -> None:
    webhook.status = 410
    notifier = await start_notifier()
    peer = await hook_peer(notifier, webhook)
    await notifier.publish(session("booked", peer, START))
    delivery = await final_state(notifier, peer)
    assert (delivery.status, delivery.reason, delivery.attempts) == (pb.DELIVERY_STATUS_FAILED, "http_410", 1)
    assert len(webhook.received) == 1
