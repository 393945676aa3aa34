"""Protobuf <-> domain for the notifier's API.

Proto3 cannot tell an unset repeated field from an empty one, so an empty
``channels`` means the default (inbox only) and an empty ``kinds`` means
every kind. Domain field names are reported with the API's names
(``preferences.time_zone``, ``preferences.quiet_hours.start_minute``).
"""

from __future__ import annotations

from collections.abc import Mapping

from alongside.api.notifier.v1 import notifier_pb2 as pb
from alongside.kit.errors import InvalidArgument
from alongside.notifier.adapters.events import proto_channel
from alongside.notifier.domain.delivery import DeliveryState
from alongside.notifier.domain.model import CHANNEL_ORDER, Channel, ContactPreferences, Kind
from alongside.notifier.domain.preferences import PreferencesDraft
from alongside.notifier.service.model import InboxItem

MINUTES_PER_DAY = 24 * 60
_API_FIELDS = {
    "timezone": "time_zone",
    "quiet_hours.start": "quiet_hours.start_minute",
    "quiet_hours.end": "quiet_hours.end_minute",
}


def enum_name(enum: type[pb.Channel] | type[pb.Kind], prefix: str, value: int) -> str:
    """``CHANNEL_EMAIL`` -> ``email``; an unknown number becomes ``""``, which
    the domain rejects with the field's name."""
    if value not in enum.values():
        return ""
    return enum.Name(value).removeprefix(prefix).lower()  # type: ignore[arg-type]


def draft_from_proto(msg: pb.ContactPreferences) -> PreferencesDraft:
    channels = [enum_name(pb.Channel, "CHANNEL_", c) for c in msg.channels]
    kinds = [enum_name(pb.Kind, "KIND_", k) for k in msg.kinds]
    narrowed = {
        enum_name(pb.Channel, "CHANNEL_", ck.channel): [enum_name(pb.Kind, "KIND_", k) for k in ck.kinds]
        for ck in msg.channel_kinds
    }
    start, end = _quiet_from_proto(msg) if msg.HasField("quiet_hours") else (None, None)
    return PreferencesDraft(
        peer_id=msg.peer_id,
        language=msg.language or None,
        timezone=msg.time_zone or None,
        channels=channels or None,
        email=msg.email or None,
        webhook_url=msg.webhook_url or None,
        kinds=kinds or None,
        channel_kinds=narrowed or None,
        quiet_start=start,
        quiet_end=end,
    )


def _quiet_from_proto(msg: pb.ContactPreferences) -> tuple[str, str]:
    bounds = {"start_minute": msg.quiet_hours.start_minute, "end_minute": msg.quiet_hours.end_minute}
    for name, minute in bounds.items():
        if not 0 <= minute < MINUTES_PER_DAY:
            raise InvalidArgument(f"preferences.quiet_hours.{name}", f"must be between 0 and {MINUTES_PER_DAY - 1}")
    start, end = bounds.values()
    return f"{start // 60:02d}:{start % 60:02d}", f"{end // 60:02d}:{end % 60:02d}"


def api_error(exc: InvalidArgument) -> InvalidArgument:
    """The same rule, naming the field as the API spells it."""
    if exc.field == "idempotency_key" or exc.field.startswith("preferences."):
        return exc
    field = exc.field
    for domain_name, api_name in _API_FIELDS.items():
        if field == domain_name or field.startswith(domain_name + "["):
            field = api_name + field[len(domain_name) :]
    rule = exc.message.removeprefix(exc.field + ": ")
    return InvalidArgument("preferences." + field, rule)


def prefs_to_proto(prefs: ContactPreferences) -> pb.ContactPreferences:
    msg = pb.ContactPreferences(
        peer_id=prefs.peer_id,
        language=prefs.language,
        time_zone=prefs.timezone,
        channels=[proto_channel(c) for c in CHANNEL_ORDER if c in prefs.channels],
        email=prefs.email or "",
        webhook_url=prefs.webhook_url or "",
        kinds=[proto_kind(k) for k in Kind if k in prefs.kinds],
        channel_kinds=[
            pb.ChannelKinds(
                channel=proto_channel(c), kinds=[proto_kind(k) for k in Kind if k in prefs.channel_kinds[c]]
            )
            for c in CHANNEL_ORDER
            if c in prefs.channel_kinds
        ],
    )
    if prefs.quiet_hours is not None:
        start, end = prefs.quiet_hours.start, prefs.quiet_hours.end
        msg.quiet_hours.start_minute = start.hour * 60 + start.minute
        msg.quiet_hours.end_minute = end.hour * 60 + end.minute
    return msg


def proto_kind(kind: Kind) -> pb.Kind:
    return pb.Kind.Value("KIND_" + kind.name)  # type: ignore[return-value]


def notification_to_proto(item: InboxItem) -> pb.Notification:
    msg = pb.Notification(
        notification_id=item.notification_id,
        peer_id=item.peer_id,
        kind=proto_kind(item.kind),
        title=item.title,
        body=item.body,
        refs=dict(item.refs),
        read=item.read,
        deliveries=_deliveries(item.deliveries),
    )
    msg.created_at.FromDatetime(item.created)
    return msg


def _deliveries(states: Mapping[Channel, DeliveryState]) -> list[pb.Delivery]:
    out = []
    for channel in CHANNEL_ORDER:
        if (state := states.get(channel)) is not None:
            delivery = pb.Delivery(
                channel=proto_channel(channel),
                status=pb.DeliveryStatus.Value("DELIVERY_STATUS_" + state.status.name),  # type: ignore[arg-type]
                attempts=state.attempts,
                reason=state.reason,
            )
            delivery.updated_at.FromDatetime(state.updated)
            out.append(delivery)
    return out
