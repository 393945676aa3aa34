"""Notifier: events in, inbox items out; latency, sustained throughput, email rate.

Run: ``python bench/notifier_throughput.py`` (about a minute) or ``--quick``.

It starts its own throwaway nats-server and Valkey, runs the notifier runtime
in this process and talks to it over real gRPC, like a client would:

1. Baselines, measured here in the same run: raw JetStream publish-with-ack
   latency, and a raw durable pull consumer (fetch + ack, no work) on a backlog.
2. Latency at a steady 500 events/s, after a second of unmeasured warm-up:
   publish -> item visible in ListNotifications (every 10th event polled
   every 1 ms), and publish -> item delivered on WatchNotifications (every
   event, one Watch per peer).
3. Sustained rate: a backlog of events published while the notifier is down,
   then the time from its start until every inbox item exists; once as
   configured by default, once with INBOX_SENT_EVENTS=true.
4. Email: events for peers with the email channel -> messages accepted by a
   local aiosmtpd sink, beside raw aiosmtplib on one kept-open connection and
   on a new connection per message.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from email.message import EmailMessage
from typing import Any

import aiosmtplib
import nats
from aiosmtpd.controller import Controller
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, StreamConfig

from alongside.api.matcher.v1 import events_pb2
from alongside.api.notifier.v1 import notifier_pb2 as pb
from alongside.api.notifier.v1 import notifier_pb2_grpc
from alongside.kit import logging as kit_logging
from alongside.kit.events.envelope import Event
from alongside.kit.redis import Keys, client
from alongside.kit.runtime import Runtime
from alongside.kit.testing.auth import TEST_AUTH
from alongside.kit.testing.auth import channel as auth_channel
from alongside.kit.testing.servers import NatsServer, ValkeyServer, free_port
from alongside.kit.testing.wait import eventually
from alongside.notifier.bootstrap import build
from alongside.notifier.settings import NotifierSettings

NS = "bench"
Row = tuple[str, str, str]
Starter = Callable[..., Awaitable["Notifier"]]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def event_for(peer: str, i: int) -> Event:
    body = events_pb2.MatchAccepted(match_id=f"m-{i}", request_id=f"r-{i}", peer_id=peer)
    return Event.of("match.accepted", "/bench", body, subject=f"m-{i}")


async def publish(js: JetStreamContext, event: Event) -> None:
    await js.publish(event.nats_subject(NS), event.body, headers=event.headers())


async def raw_baselines(js: JetStreamContext, n_lat: int, n_rate: int) -> list[Row]:
    await js.add_stream(StreamConfig(name="RAW", subjects=["raw.>"]))
    lat = []
    for i in range(n_lat):
        start = time.perf_counter()
        await js.publish("raw.lat", b"x" * 64, headers={"Nats-Msg-Id": f"l{i}"})
        lat.append((time.perf_counter() - start) * 1000)
    for _ in range(n_rate):
        await js.publish_async("raw.rate", b"x" * 200)
    await js.publish_async_completed()
    await js.add_consumer(
        "RAW", ConsumerConfig(durable_name="raw", ack_policy=AckPolicy.EXPLICIT, filter_subject="raw.rate")
    )
    sub = await js.pull_subscribe_bind("raw", "RAW")
    start, done = time.perf_counter(), 0
    while done < n_rate:
        for msg in await sub.fetch(256, timeout=2):
            await msg.ack()
            done += 1
    rate = n_rate / (time.perf_counter() - start)
    return [
        ("JetStream publish-with-ack p50 (raw, this run)", f"{pct(lat, 0.5):.2f} ms", "0.25 ms (reference)"),
        ("Durable pull consumer fetch+ack (raw, this run)", f"{rate:,.0f} msg/s", "22,000-24,000 msg/s (reference)"),
    ]


class Notifier:
    def __init__(self, runtime: Runtime, stub: notifier_pb2_grpc.NotifierServiceStub) -> None:
        self.runtime, self.stub = runtime, stub

    @classmethod
    async def start(cls, nats_url: str, redis_url: str, smtp_port: int, **overrides: Any) -> Notifier:
        settings = NotifierSettings.from_env(
            {}, **TEST_AUTH, nats_url=nats_url, redis_url=redis_url, namespace=NS, smtp_port=smtp_port, **overrides
        )
        runtime = build(settings)
        port = await runtime.start()
        return cls(runtime, notifier_pb2_grpc.NotifierServiceStub(auth_channel(f"127.0.0.1:{port}")))

    async def visible(self, peer: str, event_id: str) -> bool:
        reply = await self.stub.ListNotifications(pb.ListNotificationsRequest(peer_id=peer, page_size=1))
        return any(n.refs.get("event_id") == event_id for n in reply.notifications)


async def latency_run(js: JetStreamContext, notifier: Notifier, rate: int, seconds: float) -> list[Row]:
    """Publish at ``rate`` for ``seconds`` after one unmeasured second of warm-up."""
    peers = [f"lat-{i}" for i in range(100)]
    sent: dict[str, float] = {}
    via_watch: list[float] = []
    via_list: list[float] = []

    async def watch(peer: str) -> None:
        stream = notifier.stub.WatchNotifications(pb.WatchNotificationsRequest(peer_id=peer))
        await stream.wait_for_connection()
        async for reply in stream:
            if (at := sent.get(reply.notification.refs["event_id"])) is not None:
                via_watch.append((time.perf_counter() - at) * 1000)

    async def poll(peer: str, event_id: str) -> None:
        await eventually(lambda: notifier.visible(peer, event_id), timeout=30, interval=0.001)
        via_list.append((time.perf_counter() - sent[event_id]) * 1000)

    watchers = [asyncio.create_task(watch(p)) for p in peers]
    await asyncio.sleep(0.5)  # let every Watch settle on its start position
    pollers: list[asyncio.Task[None]] = []

    async def paced(first: int, count: int, measured: bool) -> float:
        began = time.perf_counter()
        for i in range(first, first + count):
            await asyncio.sleep(max(0.0, began + (i - first) / rate - time.perf_counter()))
            event, peer = event_for(peers[i % len(peers)], i), peers[i % len(peers)]
            if measured:
                sent[event.id] = time.perf_counter()
            await publish(js, event)
            if measured and i % 10 == 0:
                pollers.append(asyncio.create_task(poll(peer, event.id)))
        return count / (time.perf_counter() - began)

    await paced(0, rate, measured=False)  # warm-up: scripts loaded, pools and caches filled
    total = int(rate * seconds)
    achieved = await paced(rate, total, measured=True)
    await asyncio.wait_for(asyncio.gather(*pollers), 30)
    await eventually(lambda: len(via_watch) >= total, timeout=30, what="every item watched")
    for task in watchers:
        task.cancel()
    label = f"@{achieved:,.0f} ev/s"
    return [
        (f"publish -> visible in ListNotifications p50 {label}", f"{pct(via_list, 0.5):.2f} ms", ""),
        (f"publish -> visible in ListNotifications p99 {label}", f"{pct(via_list, 0.99):.2f} ms", "<= 20 ms (goal)"),
        (
            f"publish -> WatchNotifications p50 / p99 {label}",
            f"{pct(via_watch, 0.5):.2f} / {pct(via_watch, 0.99):.2f} ms",
            "",
        ),
    ]


async def sustained_run(js: JetStreamContext, redis_url: str, start: Starter, n: int, **overrides: Any) -> Row:
    """Publish ``n`` events while the notifier is down, start it, time until all are in inboxes."""
    run = len(overrides)
    peers = [f"rate{run}-{i}" for i in range(200)]
    for i in range(n):
        event = event_for(peers[i % len(peers)], i)
        await js.publish_async(event.nats_subject(NS), event.body, headers=event.headers())
    await js.publish_async_completed()
    r, keys = client(redis_url), Keys(NS, "notifier")

    async def inbox_items() -> int:
        async with r.pipeline(transaction=False) as p:
            for peer in peers:
                p.xlen(keys.key(f"peer:{peer}", "inbox"))
            return sum(await p.execute())

    async def all_acked() -> bool:
        # Acked only after the inbox write committed, so all acked means all written.
        info = await js.consumer_info(f"{NS.upper()}_MATCH", "notifier-match")
        return bool(info.ack_floor.stream_seq == last_seq and info.num_ack_pending == 0)

    last_seq = (await js.stream_info(f"{NS.upper()}_MATCH")).state.last_seq
    began = time.perf_counter()
    notifier = await start(**overrides)
    await eventually(all_acked, timeout=300, interval=0.02, what="every event handled")
    elapsed = time.perf_counter() - began
    written = await inbox_items()
    assert written == n, f"{written} inbox items for {n} events"
    await notifier.runtime.stop()
    await r.aclose()
    if overrides:
        return (f"  same, INBOX_SENT_EVENTS=true ({n:,})", f"{n / elapsed:,.0f} ev/s", "")
    return (
        f"events -> inbox items, {n:,} backlog (incl. start-up)",
        f"{n / elapsed:,.0f} ev/s",
        ">= 2,000 ev/s (goal)",
    )


class Sink:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.count += 1
        return "250 OK"


def mail(i: int) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "alongside@localhost", f"p{i}@example.org", "Bench"
    msg.set_content("You have a new assignment in Alongside.")
    return msg


async def email_runs(js: JetStreamContext, notifier: Notifier, sink: Sink, port: int, n: int) -> list[Row]:
    peers = [f"mail-{i}" for i in range(50)]
    for peer in peers:
        prefs = pb.ContactPreferences(
            peer_id=peer, channels=[pb.CHANNEL_INBOX, pb.CHANNEL_EMAIL], email=f"{peer}@example.org"
        )
        await notifier.stub.SetContactPreferences(
            pb.SetContactPreferencesRequest(idempotency_key=peer, preferences=prefs)
        )
    began, base = time.perf_counter(), sink.count
    for i in range(n):
        await publish(js, event_for(peers[i % len(peers)], 10_000_000 + i))
    await eventually(lambda: sink.count - base >= n, timeout=120, what="every email accepted")
    via_notifier = n / (time.perf_counter() - began)
    smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False)
    await smtp.connect()
    began = time.perf_counter()
    for i in range(n):
        await smtp.send_message(mail(i))
    kept_open = n / (time.perf_counter() - began)
    await smtp.quit()
    began = time.perf_counter()
    for i in range(n):
        await aiosmtplib.send(mail(i), hostname="127.0.0.1", port=port, start_tls=False)
    per_message = n / (time.perf_counter() - began)
    return [
        (f"email: event -> accepted by local SMTP ({n} mails)", f"{via_notifier:,.0f} mails/s", ""),
        ("email: raw aiosmtplib, one kept-open connection", f"{kept_open:,.0f} mails/s", "baseline, this run"),
        ("email: raw aiosmtplib.send, new connection each", f"{per_message:,.0f} mails/s", "baseline, this run"),
    ]


async def run(quick: bool) -> list[Row]:
    with NatsServer() as nats_server, ValkeyServer() as valkey:
        nats_url, redis_url = nats_server.url, valkey.url  # type: ignore[attr-defined]
        nc = await nats.connect(nats_url)
        js = nc.jetstream()
        sink, smtp_port = Sink(), free_port()
        controller = Controller(sink, hostname="127.0.0.1", port=smtp_port)
        controller.start()
        try:
            rows = await raw_baselines(js, 300 if quick else 2000, 5_000 if quick else 50_000)
            notifier = await Notifier.start(nats_url, redis_url, smtp_port)
            rows += await latency_run(js, notifier, 500, 2 if quick else 10)
            rows += await email_runs(js, notifier, sink, smtp_port, 100 if quick else 1000)
            await notifier.runtime.stop()

            def start(**overrides: Any) -> Awaitable[Notifier]:
                return Notifier.start(nats_url, redis_url, smtp_port, **overrides)

            rows.append(await sustained_run(js, redis_url, start, 3_000 if quick else 20_000))
            rows.append(await sustained_run(js, redis_url, start, 2_000 if quick else 10_000, inbox_sent_events=True))
        finally:
            controller.stop()
            await nc.drain()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    args = parser.parse_args()
    with open(os.devnull, "w") as void:
        # The service's default level, rendered as in production, into the void.
        kit_logging.configure("bench", "info", stream=void)
        rows = asyncio.run(run(args.quick))
    width = max(len(r[0]) for r in rows) + 2
    print(f"{'measure':<{width}}{'this run':>22}   reference / goal")
    for name, value, ref in rows:
        print(f"{name:<{width}}{value:>22}   {ref}")


if __name__ == "__main__":
    main()
