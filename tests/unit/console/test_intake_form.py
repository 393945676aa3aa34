"""The intake form speaks the API's language: its errors are the matcher's own."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.datastructures import FormData

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.console import intake_form

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def form(**fields: str | list[str]) -> FormData:
    items: list[tuple[str, str]] = []
    for name, value in fields.items():
        items.extend((name, v) for v in (value if isinstance(value, list) else [value]))
    return FormData(items)


def good(**changes: str | list[str]) -> FormData:
    fields: dict[str, str | list[str]] = {
        "participant_ref": "P-2026-0042", "age_band": "ADULT", "time_zone": "Europe/Madrid",
        "slot": ["1-9", "1-10", "1-14", "3-9"], "peer_types": ["RECOVERY_COACH"], "urgency": "ROUTINE",
        "acuity": "1", "session_minutes": "60", "pref_languages": "es, en", "pref_languages_strength": "required",
    }
    fields.update(changes)
    return form(**fields)


def test_hour_blocks_merge_into_weekly_windows() -> None:
    windows = intake_form.windows(["1-9", "1-10", "1-14", "3-23", "9-1", "1-x", "1-24"])
    assert [(w.day, w.start_minute, w.end_minute) for w in windows] == [(1, 540, 660), (1, 840, 900), (3, 1380, 1440)]


def test_a_good_form_is_the_request_the_api_expects() -> None:
    checked = intake_form.check(good(), NOW)
    assert checked.ok, checked.errors
    r = checked.request
    assert r.participant.participant_ref == "P-2026-0042" and r.participant.age_band == pb.AGE_BAND_ADULT
    assert list(r.peer_types) == [pb.PEER_TYPE_RECOVERY_COACH]
    assert list(r.preferences.languages.values) == ["es", "en"]
    assert r.preferences.languages.strength == pb.STRENGTH_REQUIRED
    assert not r.HasField("consent")


def test_every_broken_rule_is_reported_at_once_in_the_apis_words() -> None:
    checked = intake_form.check(
        good(participant_ref="Jane Doe", time_zone="Mars/Olympus", slot=[], peer_types=[], acuity="500"), NOW
    )
    assert checked.errors == {
        "participant_ref": "must be an id of 1-64 letters, digits or . _ : - starting with a letter or digit",
        "time_zone": "must be a known IANA time zone",
        "availability": "must list at least one window",
        "peer_types": "must list at least one peer type",
        "acuity": "must be between 1 and 100",
    }


def test_consent_is_checked_as_the_matcher_checks_it() -> None:
    checked = intake_form.check(good(consent_recipients=["the neighbours"], consent_expires="2020-01-01"), NOW)
    assert checked.errors["consent_scope"].startswith("is required with a consent")
    checked = intake_form.check(good(consent_scope="peer-support", consent_expires="2020-01-01"), NOW)
    assert checked.errors == {"consent_expires": "must be in the future"}
    checked = intake_form.check(good(consent_scope="peer-support", consent_recipients=["assigned-peer"]), NOW)
    assert checked.ok and list(checked.request.consent.recipients) == ["assigned-peer"]


def test_unknown_choices_and_unreadable_numbers_are_errors_not_defaults() -> None:
    checked = intake_form.check(good(age_band="ANCIENT", session_minutes="sixty"), NOW)
    assert checked.errors == {"age_band": "is missing or not a known value", "session_minutes": "must be an integer"}
    checked = intake_form.check(good(pref_certifications="CPRS", pref_certifications_strength="preferred"), NOW)
    assert checked.errors == {"pref_certifications": "must be REQUIRED for a certification"}
