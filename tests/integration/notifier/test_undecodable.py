"""The notifier, like every service, dead-letters an event body that does not
decode on its first delivery and never sees it again."""

from __future__ import annotations

import uuid

from alongside.kit.events.envelope import Event
from alongside.kit.events.streams import CATALOGUE, stream_name
from alongside.kit.testing.wait import eventually

from .conftest import Start

DLQ = next(s for s in CATALOGUE if s.name == "DLQ")
JUNK = b"\xff\xfenot-a-protobuf"
CONSUMED = {
    "match.accepted": "notifier-match",
    "match.consent_revoked": "notifier-match",
    "session.booked": "notifier-session",
}


async def test_an_undecodable_body_is_dead_lettered_at_once(start_notifier: Start) -> None:
    # Production's retry settings: one retry would cost seconds.
    notifier = await start_notifier(consumer_backoff_base_seconds=1.0, consumer_max_deliver=10)
    sent: dict[str, str] = {}
    for kind in CONSUMED:
        event = Event(type=kind, source="/alongside/test", body=JUNK, schema="x", id=f"ev-{uuid.uuid4().hex}")
        await notifier.publish(event)
        sent[event.id] = kind
    dlq = stream_name(notifier.namespace, DLQ)

    async def all_dead() -> bool:
        return (await notifier.js.stream_info(dlq)).state.messages == len(sent)

    await eventually(all_dead, timeout=10.0, what="every undecodable event in the DLQ")
    info = await notifier.js.stream_info(dlq)
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        headers = dict((await notifier.js.get_msg(dlq, seq)).headers or {})
        assert sent.pop(headers["ce-id"]) == headers["ce-type"]
        assert headers["alongside-dlq-attempts"] == "1"
        assert headers["alongside-dlq-consumer"] == CONSUMED[headers["ce-type"]]
    assert not sent
    streams = {s.aggregate: stream_name(notifier.namespace, s) for s in CATALOGUE}
    for durable, stream in (("notifier-match", streams["match"]), ("notifier-session", streams["session"])):
        consumer = await notifier.js.consumer_info(stream, durable)
        assert consumer.num_ack_pending == 0 and consumer.num_redelivered == 0, durable
