"""Building what each channel shows, from a trigger and the peer's preferences.

Only the domain's generic templates produce text; the inputs are a kind, a
language, ids and a session start in the peer's own zone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from alongside.notifier.domain.delivery import DeliveryState, Status, scheduled
from alongside.notifier.domain.model import Channel, ContactPreferences
from alongside.notifier.domain.notification import Plan, Trigger, message_key
from alongside.notifier.domain.templates import Refs, inbox_fields, render, resolve_language
from alongside.notifier.service.model import InboxEntry, NotificationRecord, Outgoing

# Ids an inbox item may carry so the app can open the object in the API.
INBOX_REFS = ("event_id", "match_id", "session_id")


def refs_of(trigger: Trigger) -> Refs:
    return Refs(
        notification_id=trigger.notification_id,
        event_id=trigger.event_id,
        match_id=trigger.match_id,
        session_id=trigger.session_id,
    )


def local_start(trigger: Trigger, prefs: ContactPreferences) -> datetime | None:
    """The session start on the peer's clock, from the peer's own preferences."""
    if trigger.start is None:
        return None
    return trigger.start.astimezone(UTC).astimezone(ZoneInfo(prefs.timezone))


def inbox_entry(trigger: Trigger, prefs: ContactPreferences) -> InboxEntry:
    fields = inbox_fields(trigger.kind, prefs.language, refs_of(trigger), local_start(trigger, prefs))
    refs = {name: fields[name] for name in INBOX_REFS if name in fields}
    return InboxEntry(trigger.kind, fields["title"], fields["text"], refs)


def new_record(trigger: Trigger, plan: Plan, now: datetime) -> NotificationRecord:
    """The inbox counts as delivered when written; outside channels start
    PENDING, or DEFERRED by quiet hours."""
    deliveries = {
        c: DeliveryState(Status.SENT, now, attempts=1) if c is Channel.INBOX else scheduled(now, plan.send_at)
        for c in plan.channels
    }
    return NotificationRecord(trigger=trigger, created=now, urgency=plan.urgency, deliveries=deliveries)


def outgoing(record: NotificationRecord, prefs: ContactPreferences, channel: Channel) -> Outgoing:
    """The message for an outside channel, in the peer's current language and zone."""
    trigger = record.trigger
    address = prefs.email if channel is Channel.EMAIL else prefs.webhook_url
    if address is None:
        raise ValueError("routing admits only channels with an address")
    rendered = render(trigger.kind, prefs.language, refs_of(trigger), local_start(trigger, prefs))
    return Outgoing(
        channel=channel,
        address=address,
        key=message_key(trigger.event_id, channel),
        event_id=trigger.event_id,
        language=resolve_language(prefs.language),
        rendered=rendered,
    )
