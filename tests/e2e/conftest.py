"""The whole system as separate processes: NATS, Valkey, an SMTP sink and the
three services, each started as ``python -m alongside.<svc>``.

The services trace every call and event and export the spans by OTLP to a
receiver in this process (``stack.collector``), so every test's spans are
checked for planted personal data too, and ``test_tracing`` follows one
journey's trace across the processes.

One stack serves the whole e2e session (starting it takes about two
seconds); tests stay independent by working on peers and participants of
their own (see ``cohort.Cohort``). A test that restarts a service does it
through ``Stack.restart``, so later tests reach the new process.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field

import nats
import pytest

from alongside.kit.events.streams import CATALOGUE, stream_name
from alongside.kit.redis import Keys, client
from alongside.kit.testing.auth import TEST_SECRET
from alongside.kit.testing.oidc_provider import OidcProvider
from alongside.kit.testing.processes import Child
from alongside.kit.testing.smtp import SmtpSink
from alongside.kit.testing.spans import Receiver
from alongside.kit.testing.wait import eventually

from .api import Api
from .observe import EventLog, leaks, readable

SERVICES = ("matcher", "scheduler", "notifier")

# Timings shortened so that a reminder falls due seconds after a booking, and a
# crashed consumer's event or delivery job comes back within seconds.
SCHEDULER_ENV = {
    "MIN_LEAD_MINUTES": "1",
    "REMINDER_OFFSETS_MINUTES": "1",
    "REMINDER_POLL_SECONDS": "0.2",
    "CONSUMER_BACKOFF_SECONDS": "0.2",
    # A killed scheduler's unacknowledged match.accepted comes back this soon.
    "CONSUMER_ACK_WAIT_SECONDS": "5",
}
# Managers may erase a participant on request (tests/e2e/test_erasure.py).
MATCHER_ENV = {"ERASURE_ON_REQUEST": "true"}
NOTIFIER_ENV = {
    "SMTP_HOST": "127.0.0.1",
    "SMTP_TIMEOUT_SECONDS": "2",
    "WEBHOOK_TIMEOUT_SECONDS": "1",
    "DELIVERY_POLL_SECONDS": "0.05",
    "DELIVERY_LEASE_SECONDS": "5",
    "DELIVERY_SWEEP_SECONDS": "1",
    "DELIVERY_BACKOFF_BASE_SECONDS": "0.2",
    "CONSUMER_ACK_WAIT_SECONDS": "2",
    "CONSUMER_BACKOFF_BASE_SECONDS": "0.2",
    "WATCH_BLOCK_MS": "200",
}


@dataclass
class Stack:
    """The running system; ``children`` holds the live process of each service."""

    namespace: str
    nats_url: str
    env: dict[str, str]
    sink: SmtpSink
    collector: Receiver
    children: dict[str, Child] = field(default_factory=dict)
    # Output of every process that has stopped, for the privacy checks.
    retired_output: list[str] = field(default_factory=list)
    # Personal values planted by tests; none may show up in a log or an email.
    canaries: set[str] = field(default_factory=set)

    def service_env(self, name: str) -> dict[str, str]:
        extra = {
            "matcher": MATCHER_ENV,
            "scheduler": SCHEDULER_ENV,
            "notifier": {**NOTIFIER_ENV, "SMTP_PORT": str(self.sink.port)},
        }
        return {**self.env, "SERVICE_NAME": name, **extra.get(name, {})}

    def start(self, name: str) -> Child:
        child = Child(f"alongside.{name}", self.service_env(name))
        self.children[name] = child
        return child

    def address(self, name: str) -> str:
        return f"127.0.0.1:{self.children[name].port}"

    def restart(self, name: str, *, kill: bool = True) -> Child:
        """Stop the service (SIGKILL by default: no drain, no goodbye) and start a new process."""
        old = self.children.pop(name)
        old.stop(kill=kill)
        self.retired_output.append(old.output())
        old.log.unlink(missing_ok=True)
        return self.start(name)

    def crashed(self) -> dict[str, str]:
        """The tail of each service process that has exited on its own."""
        return {
            name: f"exit {c.proc.returncode}: {c.output()[-3000:]}"
            for name, c in self.children.items()
            if c.proc.poll() is not None
        }

    def logs(self) -> str:
        return "\n".join([*self.retired_output, *(c.output() for c in self.children.values())])

    def close(self) -> None:
        for name in reversed(SERVICES):
            child = self.children.pop(name, None)
            if child is not None:
                child.close()
        self.sink.stop()
        self.collector.stop()


@pytest.fixture(scope="session")
def oidc() -> Iterator[OidcProvider]:
    """The programme's OpenID provider (a test one, with its own RSA key): the
    services trust its tokens beside the development ones (AUTH_OIDC_ISSUER)."""
    with OidcProvider() as provider:
        yield provider


@pytest.fixture(scope="session")
def stack(nats_url: str, redis_url: str, oidc: OidcProvider) -> Iterator[Stack]:
    sink = SmtpSink()
    sink.start()
    collector = Receiver().start()
    env = {
        **collector.env(),
        "AUTH_OIDC_ISSUER": oidc.issuer,
        "NATS_URL": nats_url,
        "REDIS_URL": redis_url,
        "NAMESPACE": "e2e" + uuid.uuid4().hex[:10],
        "AUTH_HS256_SECRET": TEST_SECRET,
        "LOG_LEVEL": "debug",  # the privacy checks read every line a service writes
        "GRACE_SECONDS": "1",
    }
    running = Stack(env["NAMESPACE"], nats_url, env, sink, collector)
    try:
        for name in SERVICES:
            running.start(name)
        yield running
    finally:
        running.close()


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[Api]:
    client = Api(stack.address, stack.canaries)
    yield client
    await client.close()


@pytest.fixture
async def events(stack: Stack) -> AsyncIterator[EventLog]:
    """Every match and session event of the session so far, and new ones as they come."""
    nc = await nats.connect(stack.nats_url)
    log = EventLog()
    js = nc.jetstream()
    for aggregate in ("match", "session"):
        await js.subscribe(f"{stack.namespace}.{aggregate}.>", ordered_consumer=True, cb=log.received)
    yield log
    await nc.drain()


Settled = Callable[[], Awaitable[None]]


@pytest.fixture
async def settled(stack: Stack, redis_url: str) -> AsyncIterator[Settled]:
    """Waits until every outbox is relayed and every durable consumer has
    acknowledged all it was given: whatever is still in flight (a redelivery
    after a crash, say) has happened by then."""
    r = client(redis_url)
    nc = await nats.connect(stack.nats_url)
    js = nc.jetstream()
    streams = [stream_name(stack.namespace, spec) for spec in CATALOGUE if spec.name != "DLQ"]

    async def idle() -> bool:
        for name in SERVICES:
            async for _ in r.scan_iter(match=Keys(stack.namespace, name).pattern("outbox")):
                return False
        for stream in streams:
            for info in await js.consumers_info(stream):
                durable = bool(info.config.durable_name)  # the services'; not the tests' own readers
                if durable and (info.num_pending or info.num_ack_pending):
                    return False
        return True

    async def wait() -> None:
        await eventually(idle, timeout=60, interval=0.2, what="every outbox relayed and every event acked")

    yield wait
    await nc.drain()
    await r.aclose()


@pytest.fixture(autouse=True)
def services_keep_running(stack: Stack) -> Iterator[None]:
    """A service that died during a test fails it, with the end of its log."""
    yield
    assert stack.crashed() == {}


@pytest.fixture(autouse=True)
def no_personal_data_leaves(stack: Stack) -> Iterator[None]:
    """After every test: no planted name or address in any service log, email body or span."""
    yield
    logs = stack.logs()
    assert leaks(logs, stack.canaries) == [], "personal data in a service log"
    for span in stack.collector.everything():
        assert leaks(span.text, stack.canaries) == [], f"personal data in the span {span.name}"
    for mail in stack.sink.mails:
        assert leaks(readable(mail), stack.canaries) == [], "personal data in an email"
