"""No health or personal detail leaves through a notification.

Canary strings are planted in every event field that is not an id, in the
CloudEvent attributes, in ids that only the inbox may carry, and in the
peer's addresses. None may show up in an email, a webhook body, a log line,
a published event or a span (with tracing on, the SDK's in-memory exporter);
the inbox may carry only the ids it links to.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import structlog

from alongside.api.notifier.v1 import notifier_pb2 as pb
from alongside.kit.events.envelope import Event
from alongside.kit.logging import configure
from alongside.kit.testing.smtp import SmtpSink
from alongside.kit.testing.spans import recording, spans_of
from alongside.kit.testing.wait import eventually

from .conftest import Start
from .harness import EMAIL, INBOX, WEBHOOK, Running, accepted, session, stamp
from .receivers import WebhookReceiver

EVENT_CANARIES = (
    "CANARY-participant-ref",
    "CANARY/Participant_Zone",
    "CANARYREQUEST77",
    "CANARYSERIES77",
    "CANARY subject attribute",
    "/CANARY/source",
)
INBOX_IDS = ("CANARYMATCH77", "CANARYSESSION77")  # the inbox may link to these, nothing else may
ADDRESSES = ("canary.person@example.org", "CANARYURLPATH")
START = datetime.now(UTC) + timedelta(days=2)


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """Every log line of the test, rendered as in production, at debug level."""
    buffer = io.StringIO()
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    configure("notifier", "debug", stream=buffer)
    yield buffer
    structlog.reset_defaults()
    root.handlers[:], root.level = saved[0], saved[1]


def planted(notifier_peer: str, other_peer: str) -> list[Event]:
    events = [
        accepted(
            notifier_peer,
            match_id=INBOX_IDS[0],
            participant_time_zone=EVENT_CANARIES[1],
            participant_ref=EVENT_CANARIES[0],
            request_id=EVENT_CANARIES[2],
        ),
        session(
            "booked",
            notifier_peer,
            START,
            session_id=INBOX_IDS[1],
            match_id=INBOX_IDS[0],
            participant_ref=EVENT_CANARIES[0],
            series_id=EVENT_CANARIES[3],
            end=stamp(START),
        ),
        session("reminder_due", other_peer, START, session_id=INBOX_IDS[1], reminder_id="r-1"),
    ]
    return [replace(e, subject=EVENT_CANARIES[4], source=EVENT_CANARIES[5]) for e in events]


def leaks(text: str, canaries: tuple[str, ...]) -> list[str]:
    return [c for c in canaries if c.lower() in text.lower()]


async def test_canaries_never_leave_through_a_notification(
    start_notifier: Start, smtp_sink: SmtpSink, webhook: WebhookReceiver, log_lines: io.StringIO
) -> None:
    with recording() as exported:
        notifier = await start_notifier(delivery_max_attempts=2, inbox_sent_events=True)
        published = await notifier.collect()
        dead = await notifier.collect("dlq.>")
        peer, failing = "p-canary-1", "p-canary-2"
        hook = webhook.url.replace("/hook", "/" + ADDRESSES[1])
        await notifier.set_prefs(peer, channels=[INBOX, EMAIL, WEBHOOK], email=ADDRESSES[0], webhook_url=hook)
        await notifier.set_prefs(failing, channels=[INBOX, WEBHOOK], webhook_url=hook + "/fail")
        for event in planted(peer, failing):
            await notifier.publish(event)
        await eventually(lambda: len(smtp_sink.mails) == 2 and len(webhook.received) >= 2, what="deliveries")
        await _wait_finished(notifier, peer, failing)
        # Every kind of published event is in the check: sent, failed and the DLQ copy.
        await eventually(lambda: bool(dead.msgs and published.of_type("notification.failed")), what="failure events")
        await eventually(lambda: len(published.of_type("notification.sent")) == 7, what="sent events (3 + 3 + 1)")

        everything_outside = (*EVENT_CANARIES, *INBOX_IDS)
        for mail in smtp_sink.mails:
            assert leaks(mail.raw.decode().replace(f"To: {ADDRESSES[0]}", ""), (*everything_outside, *ADDRESSES)) == []
        for received in webhook.received:
            assert leaks(received.body.decode(), (*everything_outside, *ADDRESSES)) == []
        for msg in [*published.msgs, *dead.msgs]:
            assert leaks(msg.data.decode("latin-1") + str(msg.headers), (*everything_outside, *ADDRESSES)) == []
        assert leaks(log_lines.getvalue(), (*everything_outside, *ADDRESSES)) == []
        assert "notification.created" in log_lines.getvalue()  # the capture did see the service's lines
        for item in [*await notifier.items(peer), *await notifier.items(failing)]:
            assert leaks(item.title + item.body, (*everything_outside, *ADDRESSES)) == []
            assert leaks(str(dict(item.refs)), EVENT_CANARIES) == []
            assert set(item.refs.values()) - {item.refs["event_id"]} <= set(INBOX_IDS)
    # Every span the notifier made (consumers, deliveries, sends, Valkey calls, publishes): names and counts only.
    spans = spans_of(exported.get_finished_spans())
    assert any('"deliver webhook"' in text for text in spans) and any('"smtp send"' in text for text in spans)
    for text in spans:
        assert leaks(text, (*everything_outside, *ADDRESSES)) == []


async def _wait_finished(notifier: Running, *peers: str) -> None:
    async def all_final() -> bool:
        for p in peers:
            for item in await notifier.items(p):
                if any(d.status in (pb.DELIVERY_STATUS_PENDING, pb.DELIVERY_STATUS_DEFERRED) for d in item.deliveries):
                    return False
        return True

    await eventually(all_final, what="every delivery finished")
