"""Encodings of the notifier's Redis values and key members (no Redis needed)."""

from __future__ import annotations

from datetime import UTC, datetime, time

import aiosmtplib
import pytest

from alongside.kit.redis import Keys
from alongside.notifier.adapters.codec import decode_prefs, decode_record, encode_prefs, encode_record
from alongside.notifier.adapters.keys import NotifierKeys, due_member, parse_due_member
from alongside.notifier.adapters.smtp import failure
from alongside.notifier.domain.delivery import DeliveryState, Status
from alongside.notifier.domain.model import Channel, ContactPreferences, Kind, QuietHours, Urgency
from alongside.notifier.domain.notification import Trigger
from alongside.notifier.service.model import Job, NotificationRecord

NOW = datetime(2031, 1, 1, 12, 30, 15, 123000, tzinfo=UTC)


def test_preferences_survive_a_round_trip() -> None:
    prefs = ContactPreferences(
        peer_id="p-1",
        language="es-MX",
        timezone="Europe/Madrid",
        channels=frozenset({Channel.INBOX, Channel.WEBHOOK}),
        webhook_url="https://sms.example.org/h",
        kinds=frozenset({Kind.SESSION_REMINDER}),
        channel_kinds={Channel.WEBHOOK: frozenset({Kind.SESSION_REMINDER})},
        quiet_hours=QuietHours(time(22, 15), time(6, 45)),
    )
    assert decode_prefs(encode_prefs(prefs)) == prefs


def test_a_record_survives_a_round_trip() -> None:
    trigger = Trigger("ev-1", Kind.SESSION_RESCHEDULED, "p-1", "m-1", "s-1", NOW, NOW, flagged_urgent=True)
    record = NotificationRecord(
        trigger,
        NOW,
        Urgency.URGENT,
        deliveries={Channel.EMAIL: DeliveryState(Status.FAILED, NOW, attempts=3, reason="smtp_550")},
    )
    raw = {k.encode(): v.encode() for k, v in encode_record(record).items()}
    assert decode_record(raw) == record
    assert decode_record({}) is None


def test_due_members_name_peer_notification_and_channel() -> None:
    job = Job("p.1:x", "nt-1", Channel.WEBHOOK)
    assert parse_due_member(due_member(job).encode()) == job


def test_keys_share_the_peers_hash_tag() -> None:
    keys = NotifierKeys(Keys("ns", "notifier"))
    assert keys.inbox("p-1") == "ns:notifier:{peer:p-1}:inbox"
    assert keys.record("p-1", "nt-1").startswith("ns:notifier:{peer:p-1}:")
    assert keys.peer_of(keys.jobs("p:1")) == "p:1"


@pytest.mark.parametrize(
    ("exc", "reason", "retryable"),
    [
        (aiosmtplib.SMTPConnectError("refused"), "smtp_unavailable", True),
        (aiosmtplib.SMTPReadTimeoutError("slow"), "smtp_timeout", True),
        (aiosmtplib.SMTPResponseException(451, "try later"), "smtp_451", True),
        (aiosmtplib.SMTPResponseException(554, "no"), "smtp_554", False),
        (aiosmtplib.SMTPRecipientsRefused([aiosmtplib.SMTPRecipientRefused(550, "no", "x@y.z")]), "smtp_550", False),
    ],
)
def test_smtp_failures_become_reason_codes(exc: Exception, reason: str, retryable: bool) -> None:
    got = failure(exc)
    assert (got.reason, got.retryable) == (reason, retryable)
