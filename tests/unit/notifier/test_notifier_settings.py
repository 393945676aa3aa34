"""NotifierSettings: defaults start, bad values name their variable."""

from __future__ import annotations

import pytest

from alongside.kit.settings import ConfigError
from alongside.kit.testing.auth import AUTH_ENV
from alongside.notifier.domain.retry import Jitter
from alongside.notifier.settings import NotifierSettings


def test_the_defaults_are_valid_and_webhooks_need_a_secret() -> None:
    settings = NotifierSettings.from_env({**AUTH_ENV})
    assert not settings.webhook_enabled and not settings.inbox_sent_events
    assert NotifierSettings.from_env({**AUTH_ENV, "WEBHOOK_SECRET": "s"}).webhook_enabled


def test_the_retry_policy_comes_from_the_environment() -> None:
    env = {"DELIVERY_MAX_ATTEMPTS": "3", "DELIVERY_BACKOFF_BASE_SECONDS": "0.5", "DELIVERY_JITTER": "equal"}
    policy = NotifierSettings.from_env({**AUTH_ENV, **env}).retry_policy()
    assert (policy.max_attempts, policy.base_s, policy.jitter) == (3, 0.5, Jitter.EQUAL)


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"DELIVERY_LEASE_SECONDS": "5"}, "DELIVERY_LEASE_SECONDS"),  # shorter than a send may take
        ({"DELIVERY_JITTER": "lots"}, "DELIVERY_JITTER"),
        ({"DELIVERY_MAX_ATTEMPTS": "0"}, "DELIVERY_MAX_ATTEMPTS"),
        ({"SMTP_FROM": "Alongside <x@y.org>"}, "SMTP_FROM"),
        ({"SMTP_CONNECTIONS": "0"}, "SMTP_CONNECTIONS"),
        ({"TEST_HOOK_CRASH_AT": "anywhere"}, "TEST_HOOK_CRASH_AT"),
        ({"TEST_HOOK_STALL_AT": "after_send"}, "TEST_HOOK_STALL_AT"),
    ],
)
def test_bad_values_name_their_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        NotifierSettings.from_env({**AUTH_ENV, **env})
