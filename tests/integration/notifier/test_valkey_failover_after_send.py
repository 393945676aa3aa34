"""The Valkey primary killed right after the SMTP server's 250, Sentinel
promoting the replica, the notifier untouched: still one email (issue 14, the
chaos short profile's doubled Message-ID).

Real processes throughout: the notifier (``REDIS_MIN_REPLICAS=1``, as in the
chaos run), a Valkey primary, its replica and three Sentinels. The mail sink
kills the primary (SIGKILL) the moment it has the message, before answering;
a thread waits for Sentinel to promote the replica and brings the old primary
back as its replica, as the chaos driver does. A failover keeps Redis away for
2 to 4 s: about a second before Sentinel calls the primary down, then the
election, then writes that the new primary applies but answers UNAVAILABLE
until the old one has rejoined. The notifier used to retry its SENT record for
half the lease only (here 1.5 s), gave up before the promotion, and the next
claim, once the lease had run out, sent the email again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import nats
import pytest

from alongside.api.notifier.v1 import notifier_pb2_grpc
from alongside.kit.durable import connect
from alongside.kit.ids import new_id
from alongside.kit.redis import Keys
from alongside.kit.testing.auth import channel as auth_channel
from alongside.kit.testing.cluster import HaValkey, ValkeyHA
from alongside.kit.testing.processes import Child
from alongside.kit.testing.smtp import SmtpSink
from alongside.kit.testing.wait import eventually

from .harness import accepted
from .test_crash import email_sent, set_email

LEASE_S = 3  # half of it (the old retry window) ends before any promotion: Sentinel waits 1 s to call it down


class FailoverSink(SmtpSink):
    """Kills the Valkey primary as the first message arrives, before the 250;
    then, in a thread, waits for the promotion and restarts the old primary as
    a replica of the new one."""

    def __init__(self, ha: ValkeyHA) -> None:
        super().__init__()
        self.ha = ha
        self.rejoined = threading.Event()
        self.failed: list[BaseException] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        reply = await super().handle_DATA(server, session, envelope)
        if len(self.mails) == 1:
            old = self.ha.current_primary()
            old.kill()
            threading.Thread(target=self._fail_over, args=(old,), daemon=True).start()
        return reply

    def _fail_over(self, old: HaValkey) -> None:
        try:
            deadline = time.monotonic() + 30
            while not _promoted(self.ha, old):
                if time.monotonic() > deadline:
                    raise TimeoutError("Sentinel did not promote the replica")
                time.sleep(0.1)
            self.ha.restart(old)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.failed.append(exc)
        finally:
            self.rejoined.set()


def _promoted(ha: ValkeyHA, old: HaValkey) -> bool:
    try:
        return ha.current_primary() is not old
    except LookupError:
        return False


@pytest.fixture
def failover_sink(valkey_ha: ValkeyHA) -> Iterator[FailoverSink]:
    sink = FailoverSink(valkey_ha)
    sink.start()
    yield sink
    sink.stop()


@pytest.mark.serial  # a Sentinel failover: its election runs on timers
async def test_a_valkey_failover_after_the_250_sends_the_email_once(
    valkey_ha: ValkeyHA, failover_sink: FailoverSink, nats_url: str, namespace: str
) -> None:
    env = {
        "SERVICE_NAME": "notifier",
        "NAMESPACE": namespace,
        "NATS_URL": nats_url,
        "REDIS_URL": valkey_ha.url,
        "REDIS_MIN_REPLICAS": "1",
        "PROVISION_FUNCTIONS": "false",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(failover_sink.port),
        "SMTP_TIMEOUT_SECONDS": "2",
        "WEBHOOK_TIMEOUT_SECONDS": "1",
        "DELIVERY_LEASE_SECONDS": str(LEASE_S),
        "DELIVERY_POLL_SECONDS": "0.05",
        "DELIVERY_SWEEP_SECONDS": "1",
        "CONSUMER_ACK_WAIT_SECONDS": "2",
    }
    notifier = Child("alongside.notifier", env)
    channel = auth_channel(f"127.0.0.1:{notifier.port}")
    r = connect(valkey_ha.url, socket_timeout=2)
    try:
        stub = notifier_pb2_grpc.NotifierServiceStub(channel)
        peer = new_id("p")
        await set_email(stub, peer)
        nc = await nats.connect(nats_url)
        event = accepted(peer)
        await nc.jetstream().publish(event.nats_subject(namespace), event.body, headers=event.headers())
        await nc.close()
        await eventually(failover_sink.rejoined.is_set, timeout=40, what="the failover, and the old primary back")
        assert not failover_sink.failed, failover_sink.failed
        due_key = Keys(namespace, "notifier").key("delivery", "due")

        async def recorded_and_cleared() -> bool:
            try:
                return await r.zcard(due_key) == 0 and await email_sent(stub, peer)
            except Exception:  # noqa: BLE001 - the clients still following the failover
                return False

        # Once the job is gone from the due index nobody can send it again.
        try:
            await eventually(recorded_and_cleared, timeout=45, interval=0.2, what="SENT recorded, the job cleared")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; notifier log: {notifier.output()[-3000:]}") from None
        assert "delivery.record_retry" in notifier.output(), "the failover was never felt after the send"
        assert len(failover_sink.mails) == 1, (
            f"{len(failover_sink.mails)} emails for one notification; notifier log: {notifier.output()[-3000:]}"
        )
    finally:
        await r.aclose()
        await channel.close()
        notifier.close()
