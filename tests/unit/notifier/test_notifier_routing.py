"""route(): which channels a kind goes to, from the peer's preferences."""

from __future__ import annotations

from alongside.notifier.domain.model import (
    Channel,
    ContactPreferences,
    Kind,
    default_preferences,
)
from alongside.notifier.domain.routing import channel_takes, has_address, route

ALL_ON = ContactPreferences(
    peer_id="peer-1",
    channels=frozenset(Channel),
    email="peer1@example.org",
    webhook_url="https://sms.example.org/hook",
)


def test_defaults_send_every_kind_to_the_inbox_only() -> None:
    prefs = default_preferences("peer-1")
    for kind in Kind:
        assert route(kind, prefs) == [Channel.INBOX]


def test_all_channels_in_stable_order_inbox_first() -> None:
    assert route(Kind.SESSION_BOOKED, ALL_ON) == [Channel.INBOX, Channel.EMAIL, Channel.WEBHOOK]


def test_a_muted_kind_goes_nowhere() -> None:
    prefs = ContactPreferences(
        peer_id="peer-1",
        channels=ALL_ON.channels,
        email=ALL_ON.email,
        webhook_url=ALL_ON.webhook_url,
        kinds=frozenset({Kind.SESSION_REMINDER}),
    )
    assert route(Kind.MATCH_CLOSED, prefs) == []
    assert route(Kind.SESSION_REMINDER, prefs) == [Channel.INBOX, Channel.EMAIL, Channel.WEBHOOK]


def test_a_disabled_channel_is_skipped() -> None:
    prefs = ContactPreferences(peer_id="peer-1", channels=frozenset({Channel.EMAIL}), email="p@example.org")
    assert route(Kind.ASSIGNMENT_NEW, prefs) == [Channel.EMAIL]


def test_a_channel_can_be_narrowed_to_some_kinds() -> None:
    prefs = ContactPreferences(
        peer_id="peer-1",
        channels=ALL_ON.channels,
        email=ALL_ON.email,
        webhook_url=ALL_ON.webhook_url,
        channel_kinds={Channel.WEBHOOK: frozenset({Kind.SESSION_REMINDER})},
    )
    assert route(Kind.SESSION_REMINDER, prefs) == [Channel.INBOX, Channel.EMAIL, Channel.WEBHOOK]
    assert route(Kind.ASSIGNMENT_NEW, prefs) == [Channel.INBOX, Channel.EMAIL]


def test_a_channel_without_an_address_is_skipped() -> None:
    prefs = ContactPreferences(peer_id="peer-1", channels=frozenset(Channel))
    assert not has_address(Channel.EMAIL, prefs)
    assert not channel_takes(Channel.WEBHOOK, Kind.SESSION_BOOKED, prefs)
    assert route(Kind.SESSION_BOOKED, prefs) == [Channel.INBOX]


def test_no_channels_means_nothing_is_sent() -> None:
    prefs = ContactPreferences(peer_id="peer-1", channels=frozenset())
    assert route(Kind.SESSION_BOOKED, prefs) == []
