"""A relay process killed after the PubAck and before the trim.

The relay publishes an outbox entry, waits for JetStream's PubAck and only
then deletes (trims) the entry. A relay that dies in between leaves the
entry in the outbox although the stream has it; the next relay publishes it
again. Here a real relay process (the kit's ``OutboxRelay``, in a child
Python) kills itself with SIGKILL the moment its PubAcks are in, before the
trim is sent; then another process relays.

- Inside the stream's duplicate window (``DUPLICATE_WINDOW_S``, 10 minutes)
  the re-publish carries the same ``Nats-Msg-Id`` (the event id), and
  JetStream drops it: exactly one message on the stream.
- After the window has passed (a relay that stayed dead longer than that,
  or NATS unreachable that long for the next one), JetStream stores the copy:
  two messages with the same event id. Every consumer keeps an idempotency
  record per (consumer, event id) (``Consumer``'s seen keys, kept 14 days,
  ``SEEN_TTL_S``; a handler with ``seen_record=False`` keeps its own), so the
  copy is acknowledged and skipped: the handler runs once. The second test shrinks the window to a second to show both.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
from datetime import timedelta

from nats.js.api import StreamConfig
from nats.js.errors import NotFoundError

from alongside.api.matcher.v1 import events_pb2
from alongside.kit.events.consumer import Consumer, ConsumerSpec
from alongside.kit.events.envelope import Event
from alongside.kit.events.streams import CATALOGUE, stream_name
from alongside.kit.testing.wait import eventually
from alongside.kit.uow import Tx

from ..conftest import Kit

MATCH = next(s for s in CATALOGUE if s.name == "MATCH")

# The child: the kit's relay, one sweep pass; with "crash" it SIGKILLs itself
# as soon as every PubAck of the batch is back, before the trim.
CHILD = """
import asyncio, json, os, signal, sys
import nats
from alongside.kit.events.outbox import Outbox, OutboxRelay
from alongside.kit.redis import Keys, client

config = json.loads(sys.argv[1])

class Crashing(OutboxRelay):
    async def _settle(self, acks):
        await super()._settle(acks)
        os.kill(os.getpid(), signal.SIGKILL)

async def main():
    r = client(config["redis_url"])
    nc = await nats.connect(config["nats_url"])
    keys = Keys(config["namespace"], config["service"])
    kind = Crashing if config["crash"] else OutboxRelay
    relay = kind(r, nc.jetstream(), Outbox(r, keys), keys, config["namespace"])
    print("published", await relay.drain(sweep=True), flush=True)
    await nc.close()
    await r.aclose()

asyncio.run(main())
"""


def relay_process(kit: Kit, nats_url: str, redis_url: str, *, crash: bool) -> int:
    config = {
        "redis_url": redis_url,
        "nats_url": nats_url,
        "namespace": kit.namespace,
        "service": kit.keys.service,
        "crash": crash,
    }
    done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(config)], capture_output=True, timeout=25)
    assert crash or done.returncode == 0, done.stderr.decode()[-2000:]
    return done.returncode


async def commit_with_event(kit: Kit, request_id: str) -> Event:
    event = Event.of("match.declined", "/test", events_pb2.MatchDeclined(request_id=request_id, peer_id="p1"))

    async def body(tx: Tx) -> bytes:
        tx.begin()
        tx.pipe.set(kit.keys.key("req", request_id), b"declined")
        tx.emit("req", event)
        return b"ok"

    await kit.uow.run(body)
    return event


async def stream_ids(kit: Kit) -> list[str]:
    """The event id of every message on the MATCH stream, in order."""
    name = stream_name(kit.namespace, MATCH)
    info = await kit.js.stream_info(name)
    if info.state.messages == 0:
        return []
    found = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        raw = await kit.js.get_msg(name, seq)
        found.append(Event.from_headers(dict(raw.headers or {}), raw.data or b"").id)
    return found


async def crash_after_puback(kit: Kit, nats_url: str, redis_url: str, event: Event) -> None:
    code = await asyncio.to_thread(relay_process, kit, nats_url, redis_url, crash=True)
    assert code == -signal.SIGKILL
    assert await stream_ids(kit) == [event.id]  # the PubAck came back: JetStream has it
    assert await kit.redis.xlen(kit.outbox.key("req")) == 1  # and the outbox still does: never trimmed


async def test_inside_the_duplicate_window_the_re_publish_is_dropped(kit: Kit, nats_url: str, redis_url: str) -> None:
    event = await commit_with_event(kit, "pa-1")
    await crash_after_puback(kit, nats_url, redis_url, event)

    await asyncio.to_thread(relay_process, kit, nats_url, redis_url, crash=False)  # the next relay
    assert await kit.redis.exists(kit.outbox.key("req")) == 0  # published again, then trimmed
    assert await stream_ids(kit) == [event.id]  # exactly one message: Nats-Msg-Id deduplicated it


async def test_after_the_duplicate_window_the_copy_is_stored_and_consumers_skip_it(
    kit: Kit, nats_url: str, redis_url: str
) -> None:
    name = stream_name(kit.namespace, MATCH)
    config: StreamConfig = (await kit.js.stream_info(name)).config
    config.duplicate_window = timedelta(seconds=1).total_seconds()
    await kit.js.update_stream(config)

    event = await commit_with_event(kit, "pa-2")
    await crash_after_puback(kit, nats_url, redis_url, event)
    await asyncio.sleep(1.5)  # the window is time itself: let it pass
    await asyncio.to_thread(relay_process, kit, nats_url, redis_url, crash=False)
    assert await stream_ids(kit) == [event.id, event.id]  # outside the window JetStream keeps the copy

    handled: list[str] = []

    async def handler(got: Event) -> None:
        handled.append(got.id)

    spec = ConsumerSpec(
        durable="proof-consumer", stream=MATCH, events=("match.declined",), max_deliver=3, ack_wait_s=1.0
    )
    consumer = Consumer(kit.nc, kit.js, kit.redis, kit.keys, kit.namespace, spec, handler)
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:

        async def both_acked() -> bool:
            try:
                info = await kit.js.consumer_info(name, "proof-consumer")
            except NotFoundError:  # not created yet
                return False
            return info.ack_floor.stream_seq >= 2 and info.num_ack_pending == 0

        await eventually(both_acked, timeout=15, what="both copies acknowledged")
    finally:
        stop.set()
        await task
    assert handled == [event.id]  # the idempotency record skipped the copy
