"""Retrying a failing channel: exponential backoff with jitter, then dead letter.

Attempts are counted from 1. ``delay(n, rng)`` is the wait after attempt
``n`` failed, before attempt ``n + 1``. Randomness comes from the caller's
``random.Random`` so tests can seed it and replicas do not share a stream.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Jitter(StrEnum):
    """FULL spreads retries most (uniform in [0, cap]); EQUAL keeps at least
    half the backoff (uniform in [cap/2, cap]); NONE is for tests and tools."""

    FULL = "full"
    EQUAL = "equal"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently a delivery is retried."""

    max_attempts: int = 6
    base_s: float = 2.0
    factor: float = 2.0
    max_s: float = 600.0
    jitter: Jitter = Jitter.FULL

    def __post_init__(self) -> None:
        # Configuration, not request input: a plain ValueError at start-up.
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not 0 < self.base_s <= self.max_s:
            raise ValueError("need 0 < base_s <= max_s")
        if self.factor < 1:
            raise ValueError("factor must be at least 1")

    def backoff(self, attempt: int) -> float:
        """The un-jittered wait after ``attempt``: base * factor^(attempt-1), capped."""
        _check_attempt(attempt)
        steps = attempt - 1
        # Compare in log space so attempt 5000 caps instead of overflowing.
        if self.factor > 1 and steps * math.log(self.factor) >= math.log(self.max_s / self.base_s):
            return self.max_s
        return min(self.max_s, self.base_s * self.factor**steps)

    def delay(self, attempt: int, rng: random.Random) -> float:
        """The jittered wait, in seconds, after ``attempt`` failed."""
        cap = self.backoff(attempt)
        if self.jitter is Jitter.FULL:
            return rng.uniform(0.0, cap)
        if self.jitter is Jitter.EQUAL:
            return cap / 2 + rng.uniform(0.0, cap / 2)
        return cap

    def is_final(self, attempt: int) -> bool:
        """Whether ``attempt`` was the last one allowed."""
        _check_attempt(attempt)
        return attempt >= self.max_attempts


@dataclass(frozen=True, slots=True)
class RetryAt:
    """Try again at ``when`` as attempt number ``attempt``."""

    when: datetime
    attempt: int


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """Give up: the message goes to the dead-letter stream as FAILED.
    ``reason`` is a code such as ``http_503`` or ``smtp_timeout``, never data."""

    reason: str
    attempts: int


def after_failure(
    policy: RetryPolicy,
    attempt: int,
    reason: str,
    *,
    now: datetime,
    rng: random.Random,
    retryable: bool = True,
) -> RetryAt | DeadLetter:
    """What to do once ``attempt`` failed: retry later, or dead-letter it
    (last attempt used, or a failure no retry can fix)."""
    if not retryable or policy.is_final(attempt):
        return DeadLetter(reason=reason, attempts=attempt)
    wait = timedelta(seconds=policy.delay(attempt, rng))
    return RetryAt(when=now + wait, attempt=attempt + 1)


def http_status_is_retryable(status: int) -> bool:
    """A webhook answer worth retrying: timeouts, throttling and server errors.

    Other 4xx mean the request itself is wrong (bad URL, refused signature),
    and sending the same bytes again will not help.
    """
    return status in (408, 425, 429) or 500 <= status <= 599


def smtp_code_is_retryable(code: int) -> bool:
    """SMTP 4xx replies are transient by definition (RFC 5321); 5xx are permanent."""
    return 400 <= code <= 499


def _check_attempt(attempt: int) -> None:
    if attempt < 1:
        raise ValueError("attempts are counted from 1")
