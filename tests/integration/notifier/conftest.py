from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import nats
import pytest

from alongside.api.notifier.v1 import notifier_pb2_grpc
from alongside.kit.redis import client
from alongside.kit.testing.auth import TEST_AUTH
from alongside.kit.testing.auth import channel as auth_channel
from alongside.kit.testing.smtp import SmtpSink
from alongside.notifier.bootstrap import build
from alongside.notifier.service.model import Clock, system_clock
from alongside.notifier.settings import NotifierSettings

from .harness import SECRET, Running
from .receivers import WebhookReceiver

Start = Callable[..., Awaitable[Running]]


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver(SECRET.encode())
    receiver.start()
    yield receiver
    receiver.stop()


def settings_for(nats_url: str, redis_url: str, namespace: str, smtp_port: int, **overrides: Any) -> NotifierSettings:
    base: dict[str, Any] = {
        **TEST_AUTH,
        "nats_url": nats_url,
        "redis_url": redis_url,
        "namespace": namespace,
        "smtp_port": smtp_port,
        "smtp_timeout_seconds": 2.0,
        "webhook_secret": SECRET,
        "webhook_timeout_seconds": 1.0,
        "delivery_lease_seconds": 5.0,
        "delivery_poll_seconds": 0.05,
        "delivery_backoff_base_seconds": 0.05,
        "delivery_max_attempts": 3,
        "watch_block_ms": 200,
        "grace_seconds": 0.3,
    }
    return NotifierSettings.from_env({}, **{**base, **overrides})


@pytest.fixture
async def start_notifier(nats_url: str, redis_url: str, namespace: str, smtp_sink: SmtpSink) -> AsyncIterator[Start]:
    """Start the notifier in-process (port 0) with test settings plus ``overrides``."""
    started: list[Running] = []

    async def start(*, clock: Clock = system_clock, **overrides: Any) -> Running:
        redis = overrides.pop("redis_url", redis_url)
        settings = settings_for(nats_url, redis, namespace, overrides.pop("smtp_port", smtp_sink.port), **overrides)
        runtime = build(settings, clock=clock)
        port = await runtime.start()
        channel = auth_channel(f"127.0.0.1:{port}")
        nc = await nats.connect(nats_url)
        running = Running(
            runtime,
            channel,
            notifier_pb2_grpc.NotifierServiceStub(channel),
            nc,
            nc.jetstream(),
            client(redis_url),
            namespace,
        )
        started.append(running)
        return running

    yield start
    for running in started:
        await running.close()
