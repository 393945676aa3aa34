"""Which channels a notification of a given kind goes to, per the peer's choices."""

from __future__ import annotations

from alongside.notifier.domain.model import (
    CHANNEL_ORDER,
    Channel,
    ContactPreferences,
    Kind,
)


def route(kind: Kind, prefs: ContactPreferences) -> list[Channel]:
    """The enabled channels that take ``kind``, inbox first.

    Empty when the peer muted the kind or every channel: their choice.
    """
    if kind not in prefs.kinds:
        return []
    return [c for c in CHANNEL_ORDER if channel_takes(c, kind, prefs)]


def channel_takes(channel: Channel, kind: Kind, prefs: ContactPreferences) -> bool:
    """A channel takes a kind when it is enabled, has an address if it needs
    one, and the peer did not narrow it to other kinds."""
    if channel not in prefs.channels or not has_address(channel, prefs):
        return False
    narrowed = prefs.channel_kinds.get(channel)
    return narrowed is None or kind in narrowed


def has_address(channel: Channel, prefs: ContactPreferences) -> bool:
    """Validation demands an address for enabled channels; this guards stored
    preferences written before an address was cleared."""
    if channel is Channel.EMAIL:
        return prefs.email is not None
    if channel is Channel.WEBHOOK:
        return prefs.webhook_url is not None
    return True
