"""Valkey killed right after the SMTP server's 250, the notifier untouched:
still one email (issue 14, "duplicate emails without a notifier crash").

The notifier runs as a real process; the mail sink kills Valkey (SIGKILL)
the moment it accepts the message, before answering, and a timer restarts
it on the same port and data two seconds later. The notifier could not
record SENT; before the fix the attempt gave up, the job's lease ran out and
the next claim sent the email again.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from alongside.kit.ids import new_id
from alongside.kit.redis import Keys, client
from alongside.kit.testing.servers import ValkeyServer
from alongside.kit.testing.smtp import SmtpSink
from alongside.kit.testing.wait import eventually

from .test_crash import Notifier, email_sent, publish, set_email


class KillingSink(SmtpSink):
    """Kills Valkey as the first message arrives, then restarts it after a pause."""

    def __init__(self, valkey: ValkeyServer) -> None:
        super().__init__()
        self.valkey = valkey
        self.restarted = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        reply = await super().handle_DATA(server, session, envelope)
        if len(self.mails) == 1 and self.valkey.proc is not None:
            self.valkey.proc.kill()
            self.valkey.proc.wait()
            self.valkey.proc = None
            threading.Timer(2.0, self._restart).start()
        return reply

    def _restart(self) -> None:
        self.valkey.start()
        self.restarted.set()


@pytest.fixture
def killing_sink(own_valkey: ValkeyServer) -> Iterator[KillingSink]:
    sink = KillingSink(own_valkey)
    sink.start()
    yield sink
    sink.stop()


async def test_valkey_dying_after_the_250_sends_the_email_once(
    own_valkey: ValkeyServer, killing_sink: KillingSink, nats_url: str, namespace: str, tmp_path: Any
) -> None:
    env = {
        **os.environ,
        "NATS_URL": nats_url,
        "REDIS_URL": own_valkey.url,
        "NAMESPACE": namespace,
        "LISTEN_ADDR": "127.0.0.1:0",
        "SMTP_PORT": str(killing_sink.port),
        "SMTP_TIMEOUT_SECONDS": "5",  # the sink kills Valkey before it answers: no timeout meanwhile
        "WEBHOOK_TIMEOUT_SECONDS": "1",
        "DELIVERY_LEASE_SECONDS": "12",
        "DELIVERY_POLL_SECONDS": "0.05",
        "CONSUMER_ACK_WAIT_SECONDS": "2",
        "GRACE_SECONDS": "0.5",
    }
    notifier = Notifier(env, tmp_path / "notifier.log")
    try:
        stub = await notifier.started()
        peer = new_id("p")
        await set_email(stub, peer)
        await publish(nats_url, namespace, peer)
        await eventually(killing_sink.restarted.is_set, timeout=20, what="Valkey killed after the 250 and back")
        r = client(own_valkey.url)
        due_key = Keys(namespace, "notifier").key("delivery", "due")

        async def recorded_and_cleared() -> bool:
            try:
                return await r.zcard(due_key) == 0 and await email_sent(stub, peer)
            except Exception:  # noqa: BLE001 - Valkey still loading, the notifier reconnecting
                return False

        # Once the job is gone from the due index nobody can send it again.
        try:
            await eventually(recorded_and_cleared, timeout=45, interval=0.2, what="SENT recorded, the job cleared")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; notifier log: {notifier.log.read_text()[-3000:]}") from None
        await r.aclose()
        assert len(killing_sink.mails) == 1, f"{len(killing_sink.mails)} emails for one notification"
    finally:
        notifier.stop()
