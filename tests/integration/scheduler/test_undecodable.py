"""An event body that cannot be decoded goes to the DLQ at once: no retries,
no backoff (with production's backoff, six deliveries took about 60 s)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from alongside.kit.events.envelope import Event
from alongside.kit.events.streams import CATALOGUE, stream_name
from alongside.kit.runtime import Runtime
from alongside.kit.testing.wait import eventually

from .conftest import Clock, settings_for, start_scheduler

DLQ = next(s for s in CATALOGUE if s.name == "DLQ")
JUNK = b"\xff\xfenot-a-protobuf"
# The scheduler's consumed subjects and their durables.
CONSUMED = {"match.accepted": "scheduler-match", "match.closed": "scheduler-match", "peer.upserted": "scheduler-peer"}


@pytest.fixture
async def slow_retries(nats_url: str, redis_url: str, namespace: str) -> AsyncIterator[Runtime]:
    """The scheduler with production's retry settings, where a retry costs seconds."""
    settings = settings_for(nats_url, redis_url, namespace, consumer_backoff_seconds=1.0, availability_retry_limit=5)
    runtime = await start_scheduler(settings, Clock())
    yield runtime
    await runtime.stop()


async def test_an_undecodable_body_is_dead_lettered_at_once_and_not_redelivered(slow_retries: Runtime) -> None:
    assert slow_retries.deps is not None
    js, namespace = slow_retries.deps.js, slow_retries.settings.namespace
    sent: dict[str, str] = {}
    for kind in CONSUMED:
        event = Event(type=kind, source="/alongside/matcher", body=JUNK, schema="x", id=f"ev-{uuid.uuid4().hex}")
        await js.publish(event.nats_subject(namespace), JUNK, headers=event.headers())
        sent[event.id] = kind
    dlq = stream_name(namespace, DLQ)

    async def all_dead() -> bool:
        return (await js.stream_info(dlq)).state.messages == len(sent)

    await eventually(all_dead, timeout=10.0, what="every undecodable event in the DLQ")
    info = await js.stream_info(dlq)
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        copy = await js.get_msg(dlq, seq)
        headers = dict(copy.headers or {})
        assert sent.pop(headers["ce-id"]) == headers["ce-type"]
        assert headers["alongside-dlq-reason"] == "undecodable_body"
        assert headers["alongside-dlq-attempts"] == "1"
        assert copy.data == JUNK
    assert not sent
    streams = {s.aggregate: stream_name(namespace, s) for s in CATALOGUE}
    for durable, stream in (("scheduler-match", streams["match"]), ("scheduler-peer", streams["peer"])):
        consumer = await js.consumer_info(stream, durable)
        assert consumer.num_ack_pending == 0 and consumer.num_redelivered == 0, durable
