"""Generic en/es templates, the inbox entry, and planted canaries that must never leak."""

from __future__ import annotations

import inspect
import json
from datetime import datetime
from typing import Any

import pytest

from alongside.kit.errors import InvalidArgument
from alongside.notifier.domain.model import Kind
from alongside.notifier.domain.template_text import LANGUAGES, TEMPLATES
from alongside.notifier.domain.templates import (
    ALLOWED_PLACEHOLDERS,
    Refs,
    _fill,
    format_when,
    inbox_fields,
    placeholders,
    render,
    resolve_language,
)

START = datetime(2024, 12, 3, 10, 0)  # a Tuesday, already in the peer's zone
REFS = Refs(notification_id="n-01", event_id="e-01", match_id="m-01", session_id="s-01")

# Planted in the event data around the ids: none of it may reach any body.
CANARIES = {
    "participant_name": "Zorblat Quimby",
    "participant_given_name": "Zorblat",
    "health_detail": "canary-opioid-use-disorder",
    "diagnosis": "canary-bipolar-ii",
    "session_type": "canary-relapse-prevention-group",
    "programme": "canary-youth-detox-programme",
    "participant_email": "zorblat@canary.example",
    "participant_phone": "+15550100999",
    "notes": "Zorblat canary-suicidal-ideation",
}
EVENT = {**CANARIES, "notification_id": "n-77", "event_id": "e-77", "match_id": "m-77", "session_id": "s-77"}
LANGUAGE_TAGS = ["en", "es", "es-MX", "en-GB", "fr", "zorblat"]


def _outside_text(kind: Kind, language: str, refs: Refs, start: datetime | None) -> str:
    out = render(kind, language, refs, start)
    return "\n".join([out.subject, out.text_body, json.dumps(out.webhook_payload, ensure_ascii=False)])


def _leaks(text: str) -> list[str]:
    lowered = text.lower()
    words = {w.lower() for v in CANARIES.values() for w in v.replace("@", " ").split()}
    words |= {"canary", "zorblat", "quimby"}
    return sorted(w for w in words if w in lowered)


def test_the_leak_detector_itself_catches_a_planted_value() -> None:
    assert _leaks("Session with ZORBLAT at 10") == ["zorblat"]
    assert "canary-relapse-prevention-group" in _leaks("type: canary-relapse-prevention-group")
    assert _leaks(_outside_text(Kind.SESSION_BOOKED, "en", REFS, START)) == []


def test_every_language_covers_every_kind() -> None:
    for language in LANGUAGES:
        for kind in Kind:
            assert (language, kind) in TEMPLATES


def test_templates_use_only_whitelisted_placeholders() -> None:
    for text in TEMPLATES.values():
        assert placeholders(text.subject) == set()
        assert placeholders(text.line) == set()
        assert placeholders(text.line_timed or "") <= ALLOWED_PLACEHOLDERS


def test_filling_refuses_any_other_placeholder() -> None:
    with pytest.raises(ValueError):
        _fill("Hello {participant_name}", {"when": "x"})
    with pytest.raises(ValueError):
        _fill("{when.__class__}", {"when": "x"})


@pytest.mark.parametrize("kind", list(Kind))
def test_english_and_spanish_differ_for_every_kind(kind: Kind) -> None:
    en = render(kind, "en", REFS, START)
    es = render(kind, "es", REFS, START)
    assert en.subject != es.subject
    assert en.text_body != es.text_body
    assert "Open Alongside" in en.text_body
    assert "Abre Alongside" in es.text_body


def test_booked_session_texts_carry_the_local_time() -> None:
    en = render(Kind.SESSION_BOOKED, "en", REFS, START)
    es = render(Kind.SESSION_BOOKED, "es", REFS, START)
    assert en.text_body.startswith("A session has been booked for Tue 3 Dec, 10:00 (your time).")
    assert es.text_body.startswith(
        "Se ha reservado una sesión para el martes 3 de diciembre a las 10:00 (tu hora local)."
    )


def test_without_a_time_the_untimed_line_is_used() -> None:
    out = render(Kind.SESSION_REMINDER, "en", REFS)
    assert out.text_body.startswith("Reminder: you have a session coming up.")
    assert render(Kind.ASSIGNMENT_NEW, "en", REFS, START).subject == "You have a new assignment in Alongside"


@pytest.mark.parametrize(
    ("tag", "resolved"), [("es-MX", "es"), ("ES", "es"), ("en-GB", "en"), ("fr", "en"), ("", "en")]
)
def test_language_resolution_falls_back_to_english(tag: str, resolved: str) -> None:
    assert resolve_language(tag) == resolved


def test_format_when_in_each_language() -> None:
    assert format_when(datetime(2025, 3, 30, 9, 5), "en") == "Sun 30 Mar, 09:05"
    assert format_when(datetime(2025, 3, 30, 9, 5), "es") == "domingo 30 de marzo a las 09:05"


def test_webhook_payload_carries_only_kind_ids_and_generic_text() -> None:
    out = render(Kind.SESSION_CANCELLED, "es", REFS, START)
    assert set(out.webhook_payload) == {"kind", "notification_id", "event_id", "text"}
    assert out.webhook_payload["kind"] == "session_cancelled"
    assert out.webhook_payload["event_id"] == "e-01"
    assert "m-01" not in json.dumps(out.webhook_payload) and "s-01" not in out.text_body


def test_inbox_entry_carries_the_ids_to_open_the_item() -> None:
    entry = inbox_fields(Kind.SESSION_BOOKED, "es-MX", REFS, START)
    assert entry["match_id"] == "m-01" and entry["session_id"] == "s-01"
    assert entry["language"] == "es"
    assert entry["kind"] == "session_booked"
    assert "martes 3 de diciembre" in entry["text"]
    assert "session_id" not in inbox_fields(Kind.ASSIGNMENT_NEW, "en", Refs("n-1", "e-1", match_id="m-1"))


@pytest.mark.parametrize("kind", list(Kind))
@pytest.mark.parametrize("language", LANGUAGE_TAGS)
@pytest.mark.parametrize("start", [None, START])
def test_canaries_in_event_data_never_reach_any_body(kind: Kind, language: str, start: datetime | None) -> None:
    refs = Refs.from_mapping(EVENT)
    assert _leaks(_outside_text(kind, language, refs, start)) == []
    assert _leaks(json.dumps(inbox_fields(kind, language, refs, start), ensure_ascii=False)) == []


def test_canary_smuggled_into_an_id_stays_out_of_email_and_webhook() -> None:
    refs = Refs(notification_id="n-1", event_id="e-1", match_id="Zorblat", session_id="canary-detox")
    for kind in Kind:
        for language in ("en", "es"):
            assert _leaks(_outside_text(kind, language, refs, START)) == []


def test_the_render_api_takes_no_free_text() -> None:
    params = inspect.signature(render).parameters
    assert list(params) == ["kind", "language", "refs", "local_start"]
    loose: Any = render
    with pytest.raises(TypeError):
        loose(Kind.ASSIGNMENT_NEW, "en", REFS, START, participant_name="Zorblat")
    with pytest.raises(TypeError):
        loose(Kind.SESSION_BOOKED, "en", REFS, "Zorblat's relapse group at 10")
    with pytest.raises(TypeError):
        loose("Zorblat Quimby", "en", REFS, START)
    with pytest.raises(TypeError):
        loose(Kind.SESSION_BOOKED, "en", {"match_id": "m-1"}, START)
    untyped_calls: list[Any] = [inbox_fields, render]
    for untyped in untyped_calls:
        with pytest.raises(TypeError):
            untyped("session_booked", "en", REFS, START)


def test_refs_accept_only_known_id_shaped_fields() -> None:
    loose: Any = Refs
    with pytest.raises(TypeError):
        loose(notification_id="n-1", event_id="e-1", participant_name="Zorblat")
    with pytest.raises(InvalidArgument) as info:
        Refs(notification_id="n-1", event_id="e-1", match_id="Zorblat Quimby")
    assert info.value.field == "match_id"
    assert "Zorblat" not in str(info.value)
    assert Refs.from_mapping(EVENT) == Refs("n-77", "e-77", "m-77", "s-77")


def test_group_reminder_says_it_is_a_group_meeting_in_each_language() -> None:
    en = render(Kind.GROUP_REMINDER, "en", REFS, START)
    es = render(Kind.GROUP_REMINDER, "es-MX", REFS, START)
    assert en.text_body.startswith("Reminder: your peer support group meets on Tue 3 Dec, 10:00 (your time).")
    assert es.text_body.startswith(
        "Recordatorio: tu grupo de apoyo entre pares se reúne el martes 3 de diciembre a las 10:00 (tu hora local)."
    )
    assert en.subject != render(Kind.SESSION_REMINDER, "en", REFS, START).subject
    assert en.webhook_payload["kind"] == "group_reminder"
