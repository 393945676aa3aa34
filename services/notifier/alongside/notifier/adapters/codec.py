"""Encoding the notifier's values as Redis strings, hashes and stream entries.

Instants are integer milliseconds since the epoch, UTC. Each JSON value
carries a version so a later layout can read an earlier one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, time
from typing import Any

from alongside.kit import tracing
from alongside.notifier.domain.delivery import DeliveryState, Status
from alongside.notifier.domain.model import Channel, ContactPreferences, Kind, QuietHours, Urgency
from alongside.notifier.domain.notification import Trigger
from alongside.notifier.service.model import InboxEntry, InboxItem, NotificationRecord

Raw = Mapping[bytes, bytes]
PREFS_VERSION = 1


def ms(instant: datetime) -> int:
    return int(instant.timestamp() * 1000)


def from_ms(value: bytes | str | int) -> datetime:
    return datetime.fromtimestamp(int(value) / 1000, UTC)


def encode_prefs(prefs: ContactPreferences) -> bytes:
    quiet = prefs.quiet_hours
    doc = {
        "v": PREFS_VERSION,
        "peer_id": prefs.peer_id,
        "language": prefs.language,
        "timezone": prefs.timezone,
        "channels": sorted(c.value for c in prefs.channels),
        "email": prefs.email,
        "webhook_url": prefs.webhook_url,
        "kinds": sorted(k.value for k in prefs.kinds),
        "channel_kinds": {c.value: sorted(k.value for k in ks) for c, ks in prefs.channel_kinds.items()},
        "quiet": None if quiet is None else [quiet.start.isoformat("minutes"), quiet.end.isoformat("minutes")],
    }
    return json.dumps(doc, sort_keys=True).encode()


def decode_prefs(raw: bytes) -> ContactPreferences:
    doc = json.loads(raw)
    quiet = doc["quiet"]
    return ContactPreferences(
        peer_id=doc["peer_id"],
        language=doc["language"],
        timezone=doc["timezone"],
        channels=frozenset(Channel(c) for c in doc["channels"]),
        email=doc["email"],
        webhook_url=doc["webhook_url"],
        kinds=frozenset(Kind(k) for k in doc["kinds"]),
        channel_kinds={Channel(c): frozenset(Kind(k) for k in ks) for c, ks in doc["channel_kinds"].items()},
        quiet_hours=None if quiet is None else QuietHours(time.fromisoformat(quiet[0]), time.fromisoformat(quiet[1])),
    )


def delivery_field(channel: Channel) -> str:
    return "d:" + channel.value


def encode_delivery(state: DeliveryState) -> str:
    return json.dumps({"s": state.status.value, "a": state.attempts, "r": state.reason, "u": ms(state.updated)})


def decode_delivery(raw: bytes | str) -> DeliveryState:
    doc = json.loads(raw)
    return DeliveryState(Status(doc["s"]), from_ms(doc["u"]), attempts=int(doc["a"]), reason=doc["r"])


def encode_record(record: NotificationRecord) -> dict[str, str]:
    """The hash fields of a new record (``entry`` is written by the inbox script)."""
    t = record.trigger
    fields = {
        "event_id": t.event_id,
        "kind": t.kind.value,
        "peer_id": t.peer_id,
        "flagged": "1" if t.flagged_urgent else "0",
        "created": str(ms(record.created)),
        "urgency": record.urgency.value,
    }
    optional = {"match_id": t.match_id, "session_id": t.session_id}
    fields.update({k: v for k, v in optional.items() if v is not None})
    for name, instant in (("start", t.start), ("prev_start", t.previous_start)):
        if instant is not None:
            fields[name] = str(ms(instant))
    fields.update({delivery_field(c): encode_delivery(s) for c, s in record.deliveries.items()})
    if traceparent := record.trace or tracing.carrier().get(tracing.TRACEPARENT):
        fields["tp"] = traceparent
    return fields


def decode_record(raw: Raw) -> NotificationRecord | None:
    """None for a hash without a record (missing or expired)."""
    if b"event_id" not in raw:
        return None
    text = {k.decode(): v.decode() for k, v in raw.items()}
    trigger = Trigger(
        event_id=text["event_id"],
        kind=Kind(text["kind"]),
        peer_id=text["peer_id"],
        match_id=text.get("match_id"),
        session_id=text.get("session_id"),
        start=from_ms(text["start"]) if "start" in text else None,
        previous_start=from_ms(text["prev_start"]) if "prev_start" in text else None,
        flagged_urgent=text["flagged"] == "1",
    )
    deliveries = {Channel(k[2:]): decode_delivery(v) for k, v in text.items() if k.startswith("d:")}
    return NotificationRecord(
        trigger=trigger,
        created=from_ms(text["created"]),
        urgency=Urgency(text["urgency"]),
        entry=text.get("entry", ""),
        read=text.get("read") == "1",
        deliveries=deliveries,
        trace=text.get("tp", ""),
    )


def encode_entry(notification_id: str, entry: InboxEntry, created: datetime) -> dict[str, str]:
    """The fields of an inbox stream entry."""
    return {
        "id": notification_id,
        "kind": entry.kind.value,
        "title": entry.title,
        "body": entry.body,
        "refs": json.dumps(dict(entry.refs), sort_keys=True),
        "created": str(ms(created)),
    }


def decode_item(peer_id: str, entry_id: bytes | str, entry: Raw, record: NotificationRecord | None) -> InboxItem:
    text: dict[str, Any] = {k.decode(): v.decode() for k, v in entry.items()}
    return InboxItem(
        entry=entry_id.decode() if isinstance(entry_id, bytes) else entry_id,
        notification_id=text["id"],
        peer_id=peer_id,
        kind=Kind(text["kind"]),
        title=text["title"],
        body=text["body"],
        refs=json.loads(text["refs"]),
        created=from_ms(text["created"]),
        read=record.read if record else False,
        deliveries=record.deliveries if record else {},
    )
