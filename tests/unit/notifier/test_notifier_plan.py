"""notification.plan and friends: channels, urgency and send time for a trigger."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from alongside.notifier.domain.model import Channel, ContactPreferences, Kind, QuietHours, Urgency
from alongside.notifier.domain.notification import Trigger, message_key, notification_id_for, plan

NIGHT = QuietHours(time(22), time(7))
NOW = datetime(2031, 1, 15, 5, 30, tzinfo=UTC)  # 00:30 in New York
NY_EMAIL = ContactPreferences(
    peer_id="p-1",
    timezone="America/New_York",
    channels=frozenset({Channel.INBOX, Channel.EMAIL}),
    email="p@example.org",
    quiet_hours=NIGHT,
)


def trigger(kind: Kind = Kind.ASSIGNMENT_NEW, **fields: object) -> Trigger:
    return Trigger(event_id="ev-1", kind=kind, peer_id="p-1", **fields)  # type: ignore[arg-type]


def test_the_notification_id_is_stable_and_reveals_nothing() -> None:
    assert notification_id_for("ev-1") == notification_id_for("ev-1") == trigger().notification_id
    assert notification_id_for("ev-1") != notification_id_for("ev-2")
    assert "ev-1" not in notification_id_for("ev-1") and notification_id_for("ev-1").startswith("nt")


def test_the_message_key_differs_per_channel() -> None:
    assert message_key("ev-1", Channel.EMAIL) == message_key("ev-1", Channel.EMAIL)
    assert message_key("ev-1", Channel.EMAIL) != message_key("ev-1", Channel.WEBHOOK)


def test_routine_news_waits_for_the_end_of_quiet_hours() -> None:
    decided = plan(trigger(), NY_EMAIL, NOW)
    assert decided.channels == (Channel.INBOX, Channel.EMAIL)
    assert decided.outside == (Channel.EMAIL,)
    assert decided.urgency is Urgency.ROUTINE
    assert decided.send_at == datetime(2031, 1, 15, 12, 0, tzinfo=UTC)  # 07:00 in New York


def test_a_flagged_event_goes_now() -> None:
    decided = plan(trigger(flagged_urgent=True), NY_EMAIL, NOW)
    assert (decided.urgency, decided.send_at) == (Urgency.URGENT, NOW)


def test_a_reschedule_is_urgent_when_the_old_start_is_near() -> None:
    t = trigger(Kind.SESSION_RESCHEDULED, start=NOW + timedelta(days=3), previous_start=NOW + timedelta(hours=1))
    assert t.earliest_start() == NOW + timedelta(hours=1)
    assert plan(t, NY_EMAIL, NOW).urgency is Urgency.URGENT


def test_routine_session_news_is_not_held_past_the_session() -> None:
    t = trigger(Kind.SESSION_BOOKED, start=NOW + timedelta(hours=4))  # starts before 07:00 local
    assert t.deadline() == NOW + timedelta(hours=4)
    assert plan(t, NY_EMAIL, NOW).send_at == NOW


def test_a_match_has_no_deadline() -> None:
    assert trigger(Kind.MATCH_CLOSED, start=NOW).deadline() is None


def test_a_muted_kind_plans_no_channel() -> None:
    muted = ContactPreferences(peer_id="p-1", kinds=frozenset({Kind.SESSION_REMINDER}))
    assert plan(trigger(), muted, NOW).channels == ()
