"""Killing the notifier at the worst moments never sends an email twice.

The notifier runs as a real process (``python -m alongside.notifier``) with
the TEST_HOOK_CRASH_AT hook, which exits with code 137 right after a step
commits; a second process, without the hook, then picks up the pieces.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import nats
import pytest
from nats.js import JetStreamContext

from alongside.api.notifier.v1 import notifier_pb2 as pb
from alongside.api.notifier.v1 import notifier_pb2_grpc
from alongside.kit.events.streams import CATALOGUE, stream_name
from alongside.kit.ids import new_id
from alongside.kit.redis import Keys, client
from alongside.kit.testing.auth import channel as auth_channel
from alongside.kit.testing.smtp import SmtpSink
from alongside.kit.testing.wait import eventually

from .harness import EMAIL, INBOX, accepted

Spawn = Callable[..., "Notifier"]


class Notifier:
    """One notifier process, its log file and a stub to its gRPC port."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        with log.open("wb") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "alongside.notifier"], env=env, stdout=out, stderr=out)
        self.port = 0

    async def started(self) -> notifier_pb2_grpc.NotifierServiceStub:
        def listening() -> bool:
            assert self.proc.poll() is None, self.log.read_text()[-2000:]
            return any("listening on" in x for x in self.whole_lines())

        await eventually(listening, timeout=30, what="the notifier to listen")
        line = next(x for x in self.whole_lines() if "listening on" in x)
        self.channel = auth_channel(line.rsplit(" ", 1)[1])
        return notifier_pb2_grpc.NotifierServiceStub(self.channel)

    def whole_lines(self) -> list[str]:
        """The log's complete lines: a read may catch the last one half written."""
        return self.log.read_text().split("\n")[:-1]

    async def exited(self) -> int:
        await eventually(lambda: self.proc.poll() is not None, timeout=30, what="the notifier to exit")
        return int(self.proc.returncode)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(20)


@pytest.fixture
async def spawn(
    nats_url: str, redis_url: str, namespace: str, smtp_sink: SmtpSink, tmp_path: Path
) -> AsyncIterator[Spawn]:
    running: list[Notifier] = []
    env = {
        **os.environ,
        "NATS_URL": nats_url,
        "REDIS_URL": redis_url,
        "NAMESPACE": namespace,
        "LISTEN_ADDR": "127.0.0.1:0",
        "SMTP_PORT": str(smtp_sink.port),
        "SMTP_TIMEOUT_SECONDS": "1",
        "WEBHOOK_TIMEOUT_SECONDS": "1",
        "DELIVERY_LEASE_SECONDS": "2",
        "DELIVERY_POLL_SECONDS": "0.05",
        "CONSUMER_ACK_WAIT_SECONDS": "2",
        "GRACE_SECONDS": "0.5",
    }

    def start(**extra: str) -> Notifier:
        notifier = Notifier({**env, **extra}, tmp_path / f"notifier-{len(running)}.log")
        running.append(notifier)
        return notifier

    yield start
    for notifier in running:
        notifier.stop()


async def set_email(stub: notifier_pb2_grpc.NotifierServiceStub, peer: str) -> None:
    prefs = pb.ContactPreferences(peer_id=peer, channels=[INBOX, EMAIL], email=f"{peer}@example.org")
    await stub.SetContactPreferences(pb.SetContactPreferencesRequest(idempotency_key=new_id("k"), preferences=prefs))


async def email_sent(stub: notifier_pb2_grpc.NotifierServiceStub, peer: str) -> bool:
    reply = await stub.ListNotifications(pb.ListNotificationsRequest(peer_id=peer))
    states = [(d.channel, d.status) for n in reply.notifications for d in n.deliveries]
    return (EMAIL, pb.DELIVERY_STATUS_SENT) in states


async def publish(nats_url: str, namespace: str, peer: str) -> JetStreamContext:
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    event = accepted(peer)
    await js.publish(event.nats_subject(namespace), event.body, headers=event.headers())
    return js


async def test_a_crash_after_the_send_is_recorded_sends_nothing_twice(
    spawn: Spawn, smtp_sink: SmtpSink, redis_url: str, nats_url: str, namespace: str
) -> None:
    first = spawn(TEST_HOOK_CRASH_AT="after_send")
    stub = await first.started()
    peer = new_id("p")
    await set_email(stub, peer)
    await publish(nats_url, namespace, peer)
    assert await first.exited() == 137  # died after SENT was committed, before the job was cleared
    assert len(smtp_sink.mails) == 1

    second = spawn()
    stub = await second.started()
    r = client(redis_url)
    due_key = Keys(namespace, "notifier").key("delivery", "due")

    async def job_cleared() -> bool:
        return await r.zcard(due_key) == 0 and await email_sent(stub, peer)

    # The dead worker's lease runs out; the next claim finds SENT and only clears the job.
    await eventually(job_cleared, what="the leased job cleared without a send")
    await r.aclose()
    assert len(smtp_sink.mails) == 1


async def test_a_crash_before_the_event_is_acked_sends_nothing_twice(
    spawn: Spawn, smtp_sink: SmtpSink, nats_url: str, namespace: str
) -> None:
    first = spawn(TEST_HOOK_CRASH_AT="after_inbox")
    stub = await first.started()
    peer = new_id("p")
    await set_email(stub, peer)
    js = await publish(nats_url, namespace, peer)
    assert await first.exited() == 137  # inbox item and job committed; no ack, no due-index hint
    assert smtp_sink.mails == []

    second = spawn()
    stub = await second.started()
    # JetStream redelivers the event (the record makes it a no-op) and the
    # sweep finds the job the dead process never indexed.
    await eventually(lambda: email_sent(stub, peer), what="the email sent by the second process")
    stream = stream_name(namespace, next(s for s in CATALOGUE if s.name == "MATCH"))

    async def redelivered_and_acked() -> bool:
        info = await js.consumer_info(stream, "notifier-match")
        # Two deliveries (consumer sequence) of the one message (stream sequence), now acked.
        delivered = info.delivered.consumer_seq or 0
        return delivered >= 2 and info.ack_floor.stream_seq == 1 and info.num_ack_pending == 0

    await eventually(redelivered_and_acked, what="the event redelivered and acked")
    reply = await stub.ListNotifications(pb.ListNotificationsRequest(peer_id=peer))
    assert len(reply.notifications) == 1
    assert len(smtp_sink.mails) == 1
