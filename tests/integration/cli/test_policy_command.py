"""``alongside policy show`` prints what the matcher runs: the built-in policy, or the programme's document."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from alongside.kit.testing.auth import TEST_AUTH
from alongside.matcher.bootstrap import build as build_matcher
from alongside.matcher.settings import MatcherSettings

from .conftest import Stack, base_env, no_traceback, start, stop

EXAMPLE = str(Path(__file__).parents[3] / "docs" / "examples" / "policy.yaml")


@pytest.fixture
async def policed(nats_url: str, redis_url: str, namespace: str) -> AsyncIterator[Stack]:
    stack = Stack(base_env(nats_url, redis_url))
    settings = MatcherSettings.from_env(
        {}, **TEST_AUTH, nats_url=nats_url, redis_url=redis_url, namespace=namespace, policy_file=EXAMPLE
    )
    await start(build_matcher(settings), stack, "matcher")
    yield stack
    await stop(stack.runtimes)


async def test_policy_show_prints_the_built_in_policy(matcher_only: Stack) -> None:
    result = await matcher_only.run("policy", "show")
    no_traceback(result)
    assert result.exit_code == 0
    out = " ".join(result.stdout.split())
    assert "Programme policy: default" in out and "built in" in out
    assert "certification may be │ required" in out
    assert "youth peer │ youth, young adult │ -" in out
    shown = await matcher_only.json("policy", "show")
    assert shown["programme"] == "default" and len(shown["digest"]) == 12


async def test_policy_show_prints_the_programmes_document(policed: Stack) -> None:
    result = await policed.run("policy", "show")
    no_traceback(result)
    out = " ".join(result.stdout.split())
    assert "Programme policy: riverside-youth-and-family" in out and EXAMPLE in out
    assert "certification may be │ required or preferred" in out
    assert "peer specialist │ youth │ CPSS" in out
    assert "batch: per week waited │ 3" in out
    shown = await policed.json("policy", "show")
    assert shown["batch_urgency_weight"] == 2.0
    assert {"peer_type": "PEER_TYPE_PEER_SPECIALIST", "age_bands": ["AGE_BAND_YOUTH"], "certifications": ["CPSS"]} in (
        shown["age_rules"]
    )
