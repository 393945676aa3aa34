"""A new job's due-index entry written late, while a worker is already sending
it: still one email (issue 14, the chaos short profile's doubled Message-ID,
two copies 8 ms apart).

The consumer writes the notification (record, inbox entry, the peer's jobs)
in one step and only then adds the jobs to the cross-peer due index. A
sweep (every ``DELIVERY_SWEEP_SECONDS``) can find the job in between and a
worker claim it, moving its score to the end of a lease. The consumer's
late add used to overwrite that lease with the job's due time, so the next
claim took the job again and sent it while the first send was in flight.

Real processes: the notifier runs with ``TEST_HOOK_STALL_AT=after_inbox``
(the event's task waits 2 s after its write, as under a busy event loop or a
slow WAIT, the rest of the process running on) and a sweep every 0.2 s; the
mail sink holds its reply to the first message until a second copy arrives
or 4 s pass, so the first send is still in flight when the late add comes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nats
import pytest

from alongside.kit.ids import new_id
from alongside.kit.redis import Keys, client
from alongside.kit.testing.smtp import SmtpSink
from alongside.kit.testing.wait import eventually

from .harness import accepted
from .test_crash import Notifier, email_sent, set_email

HOLD_S = 4.0  # longer than the stall (2 s): the first send is in flight when the late add comes


class HoldingSink(SmtpSink):
    """Answers the first message only once a second copy arrives, or after HOLD_S."""

    def __init__(self) -> None:
        super().__init__()
        self.second: asyncio.Event | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        reply = await super().handle_DATA(server, session, envelope)
        if len(self.mails) == 1:
            self.second = asyncio.Event()  # (made on the sink's own loop)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.second.wait(), HOLD_S)
        elif self.second is not None:
            self.second.set()
        return reply


@pytest.fixture
def holding_sink() -> Iterator[HoldingSink]:
    sink = HoldingSink()
    sink.start()
    yield sink
    sink.stop()


async def test_a_late_due_index_add_does_not_take_back_a_claimed_job(
    holding_sink: HoldingSink, nats_url: str, redis_url: str, namespace: str, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "NATS_URL": nats_url,
        "REDIS_URL": redis_url,
        "NAMESPACE": namespace,
        "LISTEN_ADDR": "127.0.0.1:0",
        "SMTP_PORT": str(holding_sink.port),
        "SMTP_TIMEOUT_SECONDS": "8",  # the held reply comes within HOLD_S: no timeout meanwhile
        "WEBHOOK_TIMEOUT_SECONDS": "1",
        "DELIVERY_LEASE_SECONDS": "12",
        "DELIVERY_POLL_SECONDS": "0.05",
        "DELIVERY_SWEEP_SECONDS": "0.2",
        "CONSUMER_ACK_WAIT_SECONDS": "10",
        "GRACE_SECONDS": "0.5",
        "TEST_HOOK_STALL_AT": "after_inbox",
    }
    notifier = Notifier(env, tmp_path / "notifier.log")
    r = client(redis_url)
    try:
        stub = await notifier.started()
        peer = new_id("p")
        await set_email(stub, peer)
        nc = await nats.connect(nats_url)
        event = accepted(peer)
        await nc.jetstream().publish(event.nats_subject(namespace), event.body, headers=event.headers())
        await nc.close()
        due_key = Keys(namespace, "notifier").key("delivery", "due")

        async def recorded_and_cleared() -> bool:
            return await r.zcard(due_key) == 0 and await email_sent(stub, peer)

        # Once the job is gone from the due index nobody can send it again.
        await eventually(recorded_and_cleared, timeout=30, interval=0.1, what="SENT recorded, the job cleared")
        assert len(holding_sink.mails) == 1, (
            f"{len(holding_sink.mails)} emails for one notification; notifier log: {notifier.log.read_text()[-3000:]}"
        )
    finally:
        await r.aclose()
        notifier.stop()
