"""One rule per preference field; each rejects with the field named and the value unrepeated."""

from __future__ import annotations

from datetime import time

import pytest

from alongside.kit.errors import InvalidArgument
from alongside.kit.ids import check_id
from alongside.notifier.domain.validation import (
    check_email,
    check_language,
    check_timezone,
    check_wall_time,
    check_webhook_url,
    is_loopback_host,
)


def _rejects(func: object, value: str, expected_field: str, **kwargs: object) -> None:
    assert callable(func)
    with pytest.raises(InvalidArgument) as info:
        func(value, **kwargs)
    assert info.value.field == expected_field
    # Very short values ("e") occur in any sentence; longer ones must not leak.
    if len(value.strip()) >= 5:
        assert value.strip() not in str(info.value)


@pytest.mark.parametrize(
    "email",
    ["peer@example.org", "first.last+tag@mail.example.co.uk", "ops@localhost", "a@b.io"],
)
def test_sane_emails_pass(email: str) -> None:
    assert check_email(email) == email


def test_email_domain_is_lowercased_local_part_kept() -> None:
    assert check_email("Peer.One@Example.ORG") == "Peer.One@example.org"


@pytest.mark.parametrize(
    "email",
    [
        "Jane Doe <jane@example.org>",  # display name
        "jane",  # no @
        "jane@@example.org",
        "jane@mail@example.org",
        "jane@example",  # no dot, not localhost
        "jane@-example.org",
        "jane@example..org",
        ".jane@example.org",
        "ja..ne@example.org",
        "jane doe@example.org",
        "@example.org",
        "jane@",
        "jane@10.0.0.1",
        "a" * 65 + "@example.org",
        "a@" + "b" * 250 + ".org",  # over 254
    ],
)
def test_bad_emails_name_the_field_without_echoing(email: str) -> None:
    _rejects(check_email, email, "email")


@pytest.mark.parametrize(
    "url",
    [
        "https://gateway.example.org/hooks/sms",
        "https://gateway.example.org:8443/h?x=1",
        "http://127.0.0.1:8080/hook",
        "http://127.9.9.9/hook",
        "http://[::1]:9000/hook",
        "http://localhost:9000/hook",
        "HTTPS://gateway.example.org/h",
    ],
)
def test_https_or_loopback_http_webhooks_pass(url: str) -> None:
    assert check_webhook_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://gateway.example.org/hook",  # plain http off loopback
        "http://10.0.0.5/hook",
        "ftp://gateway.example.org/hook",
        "https://user:secret@gateway.example.org/hook",  # credentials
        "https://token@gateway.example.org/hook",
        "https://gateway.example.org/hook#frag",
        "https:///nohost",
        "gateway.example.org/hook",  # not absolute
        "https://gateway.example.org:99999/hook",  # bad port
        "https://gateway.example.org/a b",
        "https://gateway.example.org/" + "a" * 2048,
    ],
)
def test_bad_webhooks_name_the_field_without_echoing(url: str) -> None:
    _rejects(check_webhook_url, url, "webhook_url")


def test_loopback_can_be_forbidden_for_production() -> None:
    _rejects(check_webhook_url, "http://127.0.0.1/h", "webhook_url", allow_loopback=False)
    _rejects(check_webhook_url, "https://localhost/h", "webhook_url", allow_loopback=False)
    assert check_webhook_url("https://gw.example.org/h", allow_loopback=False)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("LOCALHOST", True),
        ("127.0.0.1", True),
        ("127.255.0.1", True),
        ("::1", True),
        ("128.0.0.1", False),
        ("localhost.example.org", False),
        ("10.0.0.1", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


@pytest.mark.parametrize("zone", ["UTC", "America/Los_Angeles", "Asia/Tokyo", "America/Argentina/Buenos_Aires"])
def test_known_zones_pass(zone: str) -> None:
    assert check_timezone(zone) == zone


@pytest.mark.parametrize(
    "zone", ["Mars/Olympus_Mons", "../../etc/passwd", "/etc/localtime", "Asia/Tokyo ", "PST8PDT/../UTC", ""]
)
def test_bad_zones_name_the_field(zone: str) -> None:
    _rejects(check_timezone, zone, "timezone")


@pytest.mark.parametrize(
    ("tag", "normal"), [("en", "en"), ("ES-MX", "es-MX"), ("fr", "fr"), ("zh-Hant-TW", "zh-Hant-TW")]
)
def test_well_formed_language_tags_pass(tag: str, normal: str) -> None:
    assert check_language(tag) == normal


@pytest.mark.parametrize("tag", ["e", "english!", "en_US", "12", "en-", "espanol-latinoamericano"])
def test_malformed_language_tags_name_the_field(tag: str) -> None:
    _rejects(check_language, tag, "language")


def test_wall_time_is_24_hour_hh_mm() -> None:
    assert check_wall_time("07:30", "quiet_hours.end") == time(7, 30)
    assert check_wall_time("23:59", "quiet_hours.end") == time(23, 59)
    for bad in ("24:00", "7:30", "07:60", "07:30:00", "10pm"):
        _rejects(check_wall_time, bad, "quiet_hours.start", field="quiet_hours.start")


def test_ids_are_opaque_tokens() -> None:
    assert check_id("match_id", "01J9Z3K8-abc_d.e:f") == "01J9Z3K8-abc_d.e:f"
    for bad in ("", "has space", "-leading", "x" * 65, "ñ", "a@b", "p~s1"):
        with pytest.raises(InvalidArgument) as info:
            check_id("match_id", bad)
        assert info.value.field == "match_id"
