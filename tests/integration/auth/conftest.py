"""Fixtures shared by the access tests: the three services in one namespace."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from alongside.kit.runtime import Runtime
from alongside.kit.testing.auth import TEST_AUTH
from alongside.matcher.bootstrap import build as build_matcher
from alongside.matcher.settings import MatcherSettings
from alongside.notifier.bootstrap import build as build_notifier
from alongside.notifier.settings import NotifierSettings
from alongside.scheduler.bootstrap import build as build_scheduler
from alongside.scheduler.settings import SchedulerSettings

from ..scheduler.conftest import scheduler  # noqa: F401  (a fixture the tests use)


@pytest.fixture
async def ports(nats_url: str, redis_url: str, namespace: str) -> AsyncIterator[dict[str, int]]:
    """Matcher, scheduler and notifier, sharing NATS and Redis as in production."""
    shared: dict[str, Any] = {**TEST_AUTH, "nats_url": nats_url, "redis_url": redis_url, "namespace": namespace}
    runtimes: dict[str, Runtime] = {
        "matcher": build_matcher(MatcherSettings.from_env({}, **shared)),
        "scheduler": build_scheduler(SchedulerSettings.from_env({}, **shared, grace_seconds=0.3)),
        "notifier": build_notifier(NotifierSettings.from_env({}, **shared, grace_seconds=0.3, watch_block_ms=200)),
    }
    found = {name: await runtime.start() for name, runtime in runtimes.items()}
    yield found
    for runtime in runtimes.values():
        await runtime.stop()
