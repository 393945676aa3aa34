"""Retry policy: growth, cap, jitter bounds, seeded reproducibility, dead letter."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from alongside.notifier.domain.retry import (
    DeadLetter,
    Jitter,
    RetryAt,
    RetryPolicy,
    after_failure,
    http_status_is_retryable,
    smtp_code_is_retryable,
)

NOW = datetime(2024, 12, 3, 9, 0, tzinfo=UTC)
POLICY = RetryPolicy(max_attempts=5, base_s=1.0, factor=2.0, max_s=10.0, jitter=Jitter.FULL)


def test_backoff_grows_exponentially_then_caps() -> None:
    assert [POLICY.backoff(n) for n in range(1, 7)] == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]


def test_huge_attempt_numbers_cap_without_overflow() -> None:
    assert POLICY.backoff(100_000) == 10.0
    assert RetryPolicy(factor=1.0, base_s=3.0).backoff(10_000) == 3.0


def test_no_jitter_is_the_plain_backoff() -> None:
    plain = RetryPolicy(base_s=1.0, max_s=10.0, jitter=Jitter.NONE)
    assert plain.delay(3, random.Random(1)) == 4.0


@pytest.mark.parametrize(("jitter", "low_share"), [(Jitter.FULL, 0.0), (Jitter.EQUAL, 0.5)])
def test_jitter_stays_within_bounds(jitter: Jitter, low_share: float) -> None:
    policy = RetryPolicy(base_s=1.0, max_s=10.0, jitter=jitter)
    rng = random.Random(7)
    for attempt in range(1, 8):
        cap = policy.backoff(attempt)
        draws = [policy.delay(attempt, rng) for _ in range(200)]
        assert all(cap * low_share <= d <= cap for d in draws)
        assert len(set(draws)) > 1  # actually jittered


def test_jittered_delays_still_grow_on_average() -> None:
    rng = random.Random(11)
    means = [sum(POLICY.delay(n, rng) for _ in range(400)) / 400 for n in (1, 2, 3, 4)]
    assert means == sorted(means)


def test_same_seed_same_delays_other_seed_other_delays() -> None:
    def run(seed: int) -> list[float]:
        rng = random.Random(seed)
        return [POLICY.delay(n, rng) for n in range(1, 6)]

    assert run(42) == run(42)
    assert run(42) != run(43)


def test_is_final_at_max_attempts() -> None:
    assert not POLICY.is_final(4)
    assert POLICY.is_final(5)
    assert RetryPolicy(max_attempts=1).is_final(1)


def test_after_a_failure_retry_later_as_the_next_attempt() -> None:
    step = after_failure(POLICY, 2, "http_503", now=NOW, rng=random.Random(3))
    assert isinstance(step, RetryAt)
    assert step.attempt == 3
    assert NOW <= step.when <= NOW + timedelta(seconds=2)


def test_after_the_last_attempt_dead_letter_with_the_reason() -> None:
    step = after_failure(POLICY, 5, "smtp_unavailable", now=NOW, rng=random.Random(3))
    assert step == DeadLetter(reason="smtp_unavailable", attempts=5)


def test_a_permanent_failure_dead_letters_at_once() -> None:
    step = after_failure(POLICY, 1, "http_410", now=NOW, rng=random.Random(3), retryable=False)
    assert step == DeadLetter(reason="http_410", attempts=1)


@pytest.mark.parametrize(
    ("status", "retry"),
    [
        (500, True),
        (503, True),
        (599, True),
        (408, True),
        (429, True),
        (400, False),
        (401, False),
        (404, False),
        (410, False),
    ],
)
def test_http_statuses(status: int, retry: bool) -> None:
    assert http_status_is_retryable(status) is retry


def test_smtp_4xx_transient_5xx_permanent() -> None:
    assert smtp_code_is_retryable(421) and smtp_code_is_retryable(451)
    assert not smtp_code_is_retryable(550)


@pytest.mark.parametrize(
    "kwargs",
    [{"max_attempts": 0}, {"base_s": 0.0}, {"base_s": 20.0, "max_s": 10.0}, {"factor": 0.5}],
)
def test_bad_configuration_fails_fast(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_attempts_count_from_one() -> None:
    with pytest.raises(ValueError):
        POLICY.delay(0, random.Random(1))
