"""Deleting an erased participant's events from a stream (kit.erasure)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import nats
import pytest
from nats.js import JetStreamContext

from alongside.kit.erasure import scrub_stream, unrelayed
from alongside.kit.events.envelope import Event
from alongside.kit.events.outbox import Outbox
from alongside.kit.events.streams import CATALOGUE, provision, stream_name
from alongside.kit.redis import Keys, client


@pytest.fixture
async def js(nats_url: str, namespace: str) -> AsyncIterator[JetStreamContext]:
    nc = await nats.connect(nats_url)
    await provision(nc.jetstream(), namespace)
    yield nc.jetstream()
    await nc.close()


async def test_only_the_selected_messages_of_the_subject_go_even_when_two_replicas_race(
    js: JetStreamContext, namespace: str
) -> None:
    stream = stream_name(namespace, next(s for s in CATALOGUE if s.name == "MATCH"))
    for i in range(40):
        await js.publish(f"{namespace}.match.accepted", f"m{i}".encode())
        await js.publish(f"{namespace}.match.closed", f"m{i}".encode())  # same body, other subject: kept
    erased = {f"m{i}".encode() for i in range(0, 40, 3)}

    def wanted(headers: dict[str, str], body: bytes) -> bool:
        return body in erased

    counts = await asyncio.gather(*(scrub_stream(js, stream, f"{namespace}.match.accepted", wanted) for _ in range(2)))
    assert sum(counts) <= len(erased)  # each message deleted once, whoever got there first
    info = await js.stream_info(stream)
    assert info.state.messages == 80 - len(erased)
    left = [await js.get_msg(stream, seq) for seq in range(1, 81) if not await _deleted(js, stream, seq)]
    assert not [m for m in left if m.subject.endswith("accepted") and m.data in erased]
    assert await scrub_stream(js, stream, f"{namespace}.match.accepted", wanted) == 0


async def _deleted(js: JetStreamContext, stream: str, seq: int) -> bool:
    try:
        await js.get_msg(stream, seq)
    except nats.js.errors.NotFoundError:
        return True
    return False


async def test_unrelayed_sees_only_its_own_event_type_about_the_ids(redis_url: str, namespace: str) -> None:
    r = client(redis_url)
    outbox = Outbox(r, Keys(namespace, "matcher"))
    async with r.pipeline(transaction=True) as pipe:
        outbox.append(pipe, "roster", Event("match.accepted", "/t", b"\x0am-1", "t"))
        outbox.append(pipe, "roster", Event("match.closed", "/t", b"\x0am-2", "t"))
        await pipe.execute()
    key = outbox.key("roster")
    assert await unrelayed(r, key, "match.accepted", ["m-1"])
    assert not await unrelayed(r, key, "match.accepted", ["m-2"])
    assert not await unrelayed(r, key, "session.booked", ["m-1"])
    await r.delete(key)
    assert not await unrelayed(r, key, "match.accepted", ["m-1"])
    await r.aclose()
