"""Each service in-process, on the harness's real NATS and Valkey, for the fuzz suite."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import redis.asyncio as aioredis

from alongside.kit.runtime import Runtime
from alongside.kit.testing.auth import TEST_AUTH
from alongside.matcher.bootstrap import build as build_matcher
from alongside.matcher.settings import MatcherSettings
from alongside.notifier.bootstrap import build as build_notifier
from alongside.scheduler.bootstrap import build as build_scheduler

from ..matcher.conftest import NOW as MATCHER_NOW
from ..notifier.conftest import settings_for as notifier_settings
from ..scheduler.conftest import Clock
from ..scheduler.conftest import settings_for as scheduler_settings
from .harness import Target
from .seeds import seed
from .strategies import POOL

Starter = Callable[[str, str, str], Awaitable[Runtime]]


async def _matcher(nats_url: str, redis_url: str, namespace: str) -> Runtime:
    settings = MatcherSettings.from_env({}, **TEST_AUTH, nats_url=nats_url, redis_url=redis_url, namespace=namespace)
    return build_matcher(settings, clock=lambda: MATCHER_NOW)


async def _scheduler(nats_url: str, redis_url: str, namespace: str) -> Runtime:
    return build_scheduler(scheduler_settings(nats_url, redis_url, namespace), clock=Clock())


async def _notifier(nats_url: str, redis_url: str, namespace: str) -> Runtime:
    # Port 9 (discard): nothing is delivered, since no event reaches this notifier.
    return build_notifier(notifier_settings(nats_url, redis_url, namespace, 9))


STARTERS: dict[str, Starter] = {"matcher": _matcher, "scheduler": _scheduler, "notifier": _notifier}


@pytest.fixture
async def target(
    request: pytest.FixtureRequest, nats_url: str, redis_url: str, redis_admin_url: str, namespace: str
) -> AsyncIterator[Target]:
    name: str = request.param
    POOL.clear()  # ids of another service's objects mean nothing here
    runtime = await STARTERS[name](nats_url, redis_url, namespace)
    await runtime.start()
    admin = aioredis.from_url(redis_admin_url)
    assert runtime.deps is not None
    found = Target(name, runtime, namespace, admin, runtime.deps.js)
    await found.open()
    await seed(found)
    yield found
    await found.close()
    await admin.aclose()
    await runtime.stop()
