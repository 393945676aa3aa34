"""The notifier's settings, read from the environment once at start-up.

Field ``x`` is read from ``X`` (for example ``SMTP_HOST``). docs/notifier.md
has the table. ``TEST_HOOK_CRASH_AT`` and ``TEST_HOOK_STALL_AT`` exist only for tests.
"""

from __future__ import annotations

import dataclasses

from alongside.kit.errors import InvalidArgument
from alongside.kit.settings import ConfigError, Settings
from alongside.notifier.domain.retry import Jitter, RetryPolicy
from alongside.notifier.domain.validation import check_email

CRASH_POINTS = ("", "after_send", "after_inbox")
STALL_POINTS = ("", "after_inbox")


@dataclasses.dataclass(frozen=True)
class NotifierSettings(Settings):
    service_name: str = "notifier"
    # Email over SMTP.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_from: str = "alongside@localhost"
    smtp_timeout_seconds: float = 10.0
    smtp_connections: int = 4
    # Signed webhooks; without a secret the webhook channel is switched off.
    webhook_secret: str = ""
    webhook_timeout_seconds: float = 5.0
    # Plain http to loopback is for local gateways and tests; production sets false.
    webhook_allow_loopback: bool = True
    # Delivery jobs: retries, leases, how many sends run at once.
    delivery_max_attempts: int = 6
    delivery_backoff_base_seconds: float = 2.0
    delivery_backoff_max_seconds: float = 600.0
    delivery_jitter: str = "full"
    delivery_lease_seconds: float = 60.0
    delivery_concurrency: int = 16
    delivery_poll_seconds: float = 0.5
    delivery_sweep_seconds: float = 30.0
    # Events handled at once per stream (one shared durable per stream). The
    # retry budget rides out a Redis outage of about 2.5 minutes (1 s doubling
    # to 30 s, 10 tries) before an event goes to the dead-letter stream.
    consumer_concurrency: int = 32
    consumer_max_deliver: int = 10
    consumer_backoff_base_seconds: float = 1.0
    consumer_ack_wait_seconds: float = 30.0
    # Inbox: items kept per peer and for how long. notification.sent reports
    # email and webhook sends; set this to report inbox writes too (it costs
    # an outbox relay round per event, about a third of the throughput).
    inbox_sent_events: bool = False
    inbox_max_items: int = 1000
    retention_days: int = 90
    # Each open Watch holds a Redis connection while it waits; beyond this many
    # they take turns (an item may then wait up to WATCH_BLOCK_MS).
    watch_max_streams: int = 200
    watch_block_ms: int = 1000
    redis_max_connections: int = 256
    # TEST HOOK, never set in production: exit the process (code 137) right
    # after the named step commits, to prove a crash there sends nothing twice.
    test_hook_crash_at: str = ""
    # TEST HOOK, never set in production: hold the event's task for 2 s right
    # after the named step commits (``after_inbox``), the rest of the process running on.
    test_hook_stall_at: str = ""

    def validate(self) -> None:
        super().validate()
        _positive(
            SMTP_PORT=self.smtp_port,
            SMTP_TIMEOUT_SECONDS=self.smtp_timeout_seconds,
            SMTP_CONNECTIONS=self.smtp_connections,
            WEBHOOK_TIMEOUT_SECONDS=self.webhook_timeout_seconds,
            DELIVERY_CONCURRENCY=self.delivery_concurrency,
            DELIVERY_POLL_SECONDS=self.delivery_poll_seconds,
            DELIVERY_SWEEP_SECONDS=self.delivery_sweep_seconds,
            CONSUMER_CONCURRENCY=self.consumer_concurrency,
            CONSUMER_MAX_DELIVER=self.consumer_max_deliver,
            CONSUMER_ACK_WAIT_SECONDS=self.consumer_ack_wait_seconds,
            CONSUMER_BACKOFF_BASE_SECONDS=self.consumer_backoff_base_seconds,
            INBOX_MAX_ITEMS=self.inbox_max_items,
            RETENTION_DAYS=self.retention_days,
            WATCH_BLOCK_MS=self.watch_block_ms,
            WATCH_MAX_STREAMS=self.watch_max_streams,
            REDIS_MAX_CONNECTIONS=self.redis_max_connections,
        )
        try:
            check_email(self.smtp_from, "SMTP_FROM")
        except InvalidArgument:
            raise ConfigError("SMTP_FROM must be a bare email address") from None
        if self.delivery_lease_seconds <= max(self.smtp_timeout_seconds, self.webhook_timeout_seconds):
            # A lease shorter than a send would let a second worker send the same message.
            raise ConfigError("DELIVERY_LEASE_SECONDS must exceed SMTP_TIMEOUT_SECONDS and WEBHOOK_TIMEOUT_SECONDS")
        if self.test_hook_crash_at not in CRASH_POINTS:
            raise ConfigError(f"TEST_HOOK_CRASH_AT must be one of {', '.join(p for p in CRASH_POINTS if p)}")
        if self.test_hook_stall_at not in STALL_POINTS:
            raise ConfigError(f"TEST_HOOK_STALL_AT must be one of {', '.join(p for p in STALL_POINTS if p)}")
        self.retry_policy()

    def retry_policy(self) -> RetryPolicy:
        try:
            return RetryPolicy(
                max_attempts=self.delivery_max_attempts,
                base_s=self.delivery_backoff_base_seconds,
                max_s=self.delivery_backoff_max_seconds,
                jitter=Jitter(self.delivery_jitter),
            )
        except ValueError:
            raise ConfigError(
                "DELIVERY_MAX_ATTEMPTS >= 1, 0 < DELIVERY_BACKOFF_BASE_SECONDS <= DELIVERY_BACKOFF_MAX_SECONDS"
                " and DELIVERY_JITTER in full, equal, none are required"
            ) from None

    @property
    def webhook_enabled(self) -> bool:
        return bool(self.webhook_secret)


def _positive(**values: float) -> None:
    for name, value in values.items():
        if value <= 0:
            raise ConfigError(f"{name} must be greater than 0")
