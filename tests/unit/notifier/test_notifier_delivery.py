"""delivery: the per-channel states and their moves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alongside.notifier.domain.delivery import (
    QUIET_HOURS,
    DeliveryState,
    Status,
    delivered,
    gave_up,
    held,
    scheduled,
    will_retry,
    withdrawn,
)

NOW = datetime(2031, 1, 1, tzinfo=UTC)


def test_a_job_due_now_is_pending_and_a_later_one_deferred() -> None:
    assert scheduled(NOW, NOW) == DeliveryState(Status.PENDING, NOW)
    later = scheduled(NOW, NOW + timedelta(hours=1))
    assert (later.status, later.reason) == (Status.DEFERRED, QUIET_HOURS)


def test_each_attempt_is_counted() -> None:
    first = will_retry(scheduled(NOW, NOW), "http_503", NOW)
    assert (first.status, first.attempts, first.reason) == (Status.PENDING, 1, "http_503")
    assert delivered(first, NOW) == DeliveryState(Status.SENT, NOW, attempts=2)
    assert gave_up(first, "http_503", NOW) == DeliveryState(Status.FAILED, NOW, attempts=2, reason="http_503")


def test_only_sent_and_failed_are_finished() -> None:
    assert [s.finished for s in (scheduled(NOW, NOW), delivered(scheduled(NOW, NOW), NOW))] == [False, True]
    assert gave_up(scheduled(NOW, NOW), "x", NOW).finished


def test_holding_for_quiet_hours_uses_no_attempt() -> None:
    retrying = will_retry(scheduled(NOW, NOW), "smtp_timeout", NOW)
    waiting = held(retrying, NOW + timedelta(minutes=1))
    assert (waiting.status, waiting.attempts, waiting.reason) == (Status.DEFERRED, 1, QUIET_HOURS)


def test_a_withdrawn_channel_is_cancelled_not_failed() -> None:
    gone = withdrawn(scheduled(NOW, NOW + timedelta(hours=1)), NOW)
    assert (gone.status, gone.reason, gone.attempts, gone.finished) == (Status.CANCELLED, "channel_disabled", 0, True)
