"""Turning what a peer sent (SetContactPreferences) into ``ContactPreferences``.

``None`` in a draft means "not given, use the default"; an empty sequence
means "explicitly none" (a peer may mute every kind or every channel). The
gRPC mapper decides which of the two an unset proto field becomes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from alongside.kit.errors import InvalidArgument
from alongside.kit.ids import check_id
from alongside.notifier.domain.model import (
    ALL_KINDS,
    Channel,
    ContactPreferences,
    Kind,
    QuietHours,
)
from alongside.notifier.domain.validation import (
    check_email,
    check_language,
    check_timezone,
    check_wall_time,
    check_webhook_url,
)

E = TypeVar("E", bound=StrEnum)


@dataclass(frozen=True, slots=True)
class PreferencesDraft:
    """Unvalidated preferences, as strings, straight from the API."""

    peer_id: str
    language: str | None = None
    timezone: str | None = None
    channels: Sequence[str] | None = None
    email: str | None = None
    webhook_url: str | None = None
    kinds: Sequence[str] | None = None
    channel_kinds: Mapping[str, Sequence[str]] | None = None
    quiet_start: str | None = None
    quiet_end: str | None = None


def validate_preferences(draft: PreferencesDraft, *, allow_loopback_webhook: bool = True) -> ContactPreferences:
    """Check every field, then the rules that tie fields together.

    Raises ``InvalidArgument`` naming the first bad field (``email``,
    ``kinds[2]``, ``quiet_hours.end``...). Blank strings count as not given.
    """
    defaults = ContactPreferences(peer_id="")
    email = _given(draft.email)
    webhook = _given(draft.webhook_url)
    prefs = ContactPreferences(
        peer_id=check_id("peer_id", draft.peer_id),
        language=check_language(_given(draft.language) or defaults.language),
        timezone=check_timezone(_given(draft.timezone) or defaults.timezone),
        channels=defaults.channels if draft.channels is None else parse_channels(draft.channels, "channels"),
        email=None if email is None else check_email(email),
        webhook_url=None if webhook is None else check_webhook_url(webhook, allow_loopback=allow_loopback_webhook),
        kinds=ALL_KINDS if draft.kinds is None else parse_kinds(draft.kinds, "kinds"),
        channel_kinds=parse_channel_kinds(draft.channel_kinds or {}),
        quiet_hours=parse_quiet_hours(draft.quiet_start, draft.quiet_end),
    )
    require_addresses(prefs)
    return prefs


def _given(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    return value.strip()


def _parse_enum(enum: type[E], text: str, field: str, what: str) -> E:
    # Accept the enum's name or value in any case: "SESSION_BOOKED" and
    # "session_booked" both come from real clients (proto names vs JSON).
    try:
        return enum(text.strip().lower())
    except ValueError:
        raise InvalidArgument(field, f"is not a known {what}") from None


def parse_kinds(values: Sequence[str], field: str) -> frozenset[Kind]:
    """Each entry must be a notification kind; the field is reported as ``kinds[i]``."""
    return frozenset(_parse_enum(Kind, v, f"{field}[{i}]", "notification kind") for i, v in enumerate(values))


def parse_channels(values: Sequence[str], field: str) -> frozenset[Channel]:
    """Each entry must be a channel; the field is reported as ``channels[i]``."""
    return frozenset(_parse_enum(Channel, v, f"{field}[{i}]", "channel") for i, v in enumerate(values))


def parse_channel_kinds(
    raw: Mapping[str, Sequence[str]],
) -> dict[Channel, frozenset[Kind]]:
    """Per-channel narrowing of kinds, e.g. ``{"webhook": ["session_reminder"]}``."""
    parsed: dict[Channel, frozenset[Kind]] = {}
    for key, kinds in raw.items():
        channel = _parse_enum(Channel, key, "channel_kinds", "channel")
        parsed[channel] = parse_kinds(kinds, f"channel_kinds.{channel.value}")
    return parsed


def parse_quiet_hours(start: str | None, end: str | None) -> QuietHours | None:
    """Both ends or neither; they must differ, since an empty and a
    24-hour window would look the same."""
    start, end = _given(start), _given(end)
    if start is None and end is None:
        return None
    if start is None:
        raise InvalidArgument("quiet_hours.start", "is required when quiet_hours.end is set")
    if end is None:
        raise InvalidArgument("quiet_hours.end", "is required when quiet_hours.start is set")
    window = QuietHours(
        check_wall_time(start, "quiet_hours.start"),
        check_wall_time(end, "quiet_hours.end"),
    )
    if window.start == window.end:
        raise InvalidArgument("quiet_hours.end", "must differ from quiet_hours.start")
    return window


def require_addresses(prefs: ContactPreferences) -> None:
    """An enabled email or webhook channel needs somewhere to send to."""
    if Channel.EMAIL in prefs.channels and prefs.email is None:
        raise InvalidArgument("email", "is required when the email channel is enabled")
    if Channel.WEBHOOK in prefs.channels and prefs.webhook_url is None:
        raise InvalidArgument("webhook_url", "is required when the webhook channel is enabled")
