"""``alongside participant erase`` and ``erasure`` against a real matcher."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from alongside.kit.testing.auth import TEST_AUTH
from alongside.matcher.bootstrap import build as build_matcher
from alongside.matcher.settings import MatcherSettings

from .conftest import Stack, base_env, imported, no_traceback, start, stop, submit


@pytest.fixture
async def erasing(nats_url: str, redis_url: str, namespace: str) -> AsyncIterator[Stack]:
    stack = Stack(base_env(nats_url, redis_url))
    settings = MatcherSettings.from_env(
        {}, **TEST_AUTH, nats_url=nats_url, redis_url=redis_url, namespace=namespace, erasure_on_request=True
    )
    await start(build_matcher(settings), stack, "matcher")
    yield stack
    await stop(stack.runtimes)


async def test_erase_then_follow_the_confirmations(erasing: Stack, tmp_path: Path) -> None:
    await imported(erasing, tmp_path)
    request_id = await submit(erasing, tmp_path, ref="demo-p-0042")
    result = await erasing.run("participant", "erase", "demo-p-0042")
    no_traceback(result)
    assert result.exit_code == 0, result.output
    assert "Erasure er" in result.stdout and request_id in result.stdout
    assert "participant erasure er" in result.stderr  # the next step
    erasure_id = result.stdout.split("Erasure ", 1)[1].split(":", 1)[0]
    shown = await erasing.json("participant", "erasure", erasure_id)
    assert shown["request_ids"] == [request_id] and shown["reason"] == "ERASURE_REASON_ON_REQUEST"
    assert shown["awaiting"] == ["matcher", "scheduler", "notifier"]
    again = await erasing.run("participant", "erase", "demo-p-0042")
    assert again.exit_code != 0 and "no match request is held" in again.stderr


async def test_erase_where_the_programme_keeps_records_says_so(matcher_only: Stack, tmp_path: Path) -> None:
    await imported(matcher_only, tmp_path)
    await submit(matcher_only, tmp_path, ref="demo-p-0043")
    result = await matcher_only.run("participant", "erase", "demo-p-0043")
    no_traceback(result)
    assert result.exit_code != 0
    assert "does not erase participants on request" in result.stderr
