"""validate_preferences: defaults, normalisation, and the field named for each bad input."""

from __future__ import annotations

from dataclasses import replace
from datetime import time

import pytest

from alongside.kit.errors import InvalidArgument
from alongside.notifier.domain.model import ALL_KINDS, Channel, Kind, QuietHours
from alongside.notifier.domain.preferences import PreferencesDraft, validate_preferences

FULL = PreferencesDraft(
    peer_id="peer-7",
    language="es-MX",
    timezone="America/Los_Angeles",
    channels=["INBOX", "email", "Webhook"],
    email="peer7@example.org",
    webhook_url="https://sms.example.org/hook",
    kinds=["session_booked", "SESSION_REMINDER", "session_reminder"],
    channel_kinds={"webhook": ["session_reminder"]},
    quiet_start="22:00",
    quiet_end="07:00",
)


def _field_of(draft: PreferencesDraft, **kwargs: bool) -> str:
    with pytest.raises(InvalidArgument) as info:
        validate_preferences(draft, **kwargs)
    return info.value.field


def test_a_full_draft_is_parsed_and_normalised() -> None:
    prefs = validate_preferences(FULL)
    assert prefs.peer_id == "peer-7"
    assert prefs.language == "es-MX"
    assert prefs.timezone == "America/Los_Angeles"
    assert prefs.channels == {Channel.INBOX, Channel.EMAIL, Channel.WEBHOOK}
    assert prefs.kinds == {Kind.SESSION_BOOKED, Kind.SESSION_REMINDER}
    assert prefs.channel_kinds == {Channel.WEBHOOK: frozenset({Kind.SESSION_REMINDER})}
    assert prefs.quiet_hours == QuietHours(time(22, 0), time(7, 0))


def test_missing_fields_take_the_defaults() -> None:
    prefs = validate_preferences(PreferencesDraft(peer_id="peer-1"))
    assert prefs.channels == {Channel.INBOX}
    assert prefs.kinds == ALL_KINDS
    assert (prefs.language, prefs.timezone, prefs.quiet_hours) == ("en", "UTC", None)


def test_blank_strings_count_as_not_given() -> None:
    draft = PreferencesDraft(
        peer_id="peer-1", language=" ", timezone="", email="", webhook_url="", quiet_start="", quiet_end=""
    )
    prefs = validate_preferences(draft)
    assert (prefs.language, prefs.timezone, prefs.email, prefs.webhook_url) == ("en", "UTC", None, None)


def test_explicitly_empty_kinds_and_channels_mute_everything() -> None:
    prefs = validate_preferences(PreferencesDraft(peer_id="peer-1", kinds=[], channels=[]))
    assert prefs.kinds == frozenset()
    assert prefs.channels == frozenset()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"peer_id": ""}, "peer_id"),
        ({"email": "Peer Seven <peer7@example.org>"}, "email"),
        ({"webhook_url": "http://sms.example.org/hook"}, "webhook_url"),
        ({"timezone": "Mars/Base"}, "timezone"),
        ({"language": "spanish!"}, "language"),
        ({"kinds": ["session_booked", "match_closed", "diagnosis_update"]}, "kinds[2]"),
        ({"channels": ["inbox", "carrier_pigeon"]}, "channels[1]"),
        ({"channel_kinds": {"webhook": ["session_reminder", "gossip"]}}, "channel_kinds.webhook[1]"),
        ({"channel_kinds": {"fax": ["session_reminder"]}}, "channel_kinds"),
        ({"quiet_start": "25:00"}, "quiet_hours.start"),
        ({"quiet_end": "7am"}, "quiet_hours.end"),
        ({"quiet_end": None}, "quiet_hours.end"),
        ({"quiet_start": None}, "quiet_hours.start"),
        ({"quiet_end": "22:00"}, "quiet_hours.end"),
        ({"email": None}, "email"),
        ({"webhook_url": None}, "webhook_url"),
    ],
)
def test_each_bad_input_names_its_field(change: dict[str, object], field: str) -> None:
    assert _field_of(replace(FULL, **change)) == field  # type: ignore[arg-type]


def test_errors_never_repeat_the_bad_value() -> None:
    secret = "https://sms.example.org/hook?token=peer7-private"
    for draft in (
        replace(FULL, email="Peer Seven <peer7@example.org>"),
        replace(FULL, webhook_url=secret.replace("https", "http")),
        replace(FULL, kinds=["peer7-private-kind"]),
    ):
        with pytest.raises(InvalidArgument) as info:
            validate_preferences(draft)
        assert "peer7" not in str(info.value)


def test_email_channel_needs_an_email_but_an_unused_address_is_fine() -> None:
    kept = validate_preferences(replace(FULL, channels=["inbox"]))
    assert kept.email == "peer7@example.org"
    assert Channel.EMAIL not in kept.channels


def test_loopback_webhook_allowed_by_default_and_refusable() -> None:
    local = replace(FULL, webhook_url="http://127.0.0.1:8099/hook")
    assert validate_preferences(local).webhook_url == "http://127.0.0.1:8099/hook"
    assert _field_of(local, allow_loopback_webhook=False) == "webhook_url"
