"""Rendering generic, localised notification texts.

The render API takes no free text at all: a ``Kind``, a language tag, a
``Refs`` of opaque ids and an optional ``datetime``. There is no parameter
through which a name, a health detail or a session type could reach an
email, SMS or webhook body, and types are checked at run time too, so an
untyped caller cannot slip a string in where a datetime belongs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from string import Formatter

from alongside.kit.ids import check_id, check_ref
from alongside.notifier.domain.model import Kind
from alongside.notifier.domain.template_text import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    TEMPLATES,
    LanguagePack,
    TemplateText,
)

ALLOWED_PLACEHOLDERS: frozenset[str] = frozenset({"when"})


@dataclass(frozen=True, slots=True)
class Refs:
    """The ids a notification may carry. Each must be an id by the kit's one
    rule (a session id may be scoped), so a sentence cannot pose as one."""

    notification_id: str
    event_id: str
    match_id: str | None = None
    session_id: str | None = None

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None:
                (check_ref if f.name == "session_id" else check_id)(f.name, value)

    @classmethod
    def from_mapping(cls, ids: Mapping[str, str]) -> Refs:
        """Pick the known id keys from event data and ignore everything else."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in ids.items() if k in names})


@dataclass(frozen=True, slots=True)
class Rendered:
    """What outside channels carry: an email subject and body, and the
    webhook (SMS gateway) payload of kind, ids and the generic text."""

    subject: str
    text_body: str
    webhook_payload: dict[str, str] = field(hash=False)


def resolve_language(tag: str) -> str:
    """The supported language for a tag: ``es-MX`` -> ``es``; unknown -> ``en``."""
    primary = tag.split("-", 1)[0].lower()
    return primary if primary in LANGUAGES else DEFAULT_LANGUAGE


def placeholders(text: str) -> set[str]:
    """The ``{name}`` fields a template string uses."""
    return {name for _, name, _, _ in Formatter().parse(text) if name is not None}


def format_when(local_start: datetime, language: str) -> str:
    """A session's wall time in the peer's language: ``Tue 3 Dec, 10:00``."""
    pack = LANGUAGES[resolve_language(language)]
    return pack.when_format.format(
        weekday=pack.weekdays[local_start.weekday()],
        day=local_start.day,
        month=pack.months[local_start.month - 1],
        time=f"{local_start.hour:02d}:{local_start.minute:02d}",
    )


def render_line(kind: Kind, language: str, local_start: datetime | None) -> str:
    """The one-sentence message, timed when a start is known and the kind has a timed form."""
    _check_inputs(kind, None, local_start)
    text = template_for(kind, language)
    if local_start is None or text.line_timed is None:
        return text.line
    return _fill(text.line_timed, {"when": format_when(local_start, language)})


def render(kind: Kind, language: str, refs: Refs, local_start: datetime | None = None) -> Rendered:
    """The email and webhook forms of a notification. ``local_start`` is the
    session start already converted to the peer's zone."""
    _check_inputs(kind, refs, local_start)
    pack = _pack(language)
    line = render_line(kind, language, local_start)
    body = f"{line}\n\n{pack.footer}\n\n{pack.settings_note}\n"
    payload = {
        "kind": kind.value,
        "notification_id": refs.notification_id,
        "event_id": refs.event_id,
        "text": f"{line} {pack.footer}",
    }
    return Rendered(template_for(kind, language).subject, body, payload)


def inbox_fields(kind: Kind, language: str, refs: Refs, local_start: datetime | None = None) -> dict[str, str]:
    """The in-app inbox entry: the generic text plus the ids the app needs to
    open the assignment or session through the API (it stays inside Alongside)."""
    _check_inputs(kind, refs, local_start)
    entry = {
        "kind": kind.value,
        "language": resolve_language(language),
        "title": template_for(kind, language).subject,
        "text": render_line(kind, language, local_start),
    }
    entry.update({f.name: v for f in fields(refs) if (v := getattr(refs, f.name)) is not None})
    return entry


def template_for(kind: Kind, language: str) -> TemplateText:
    """The template for a kind in the resolved language."""
    return TEMPLATES[(resolve_language(language), kind)]


def _pack(language: str) -> LanguagePack:
    return LANGUAGES[resolve_language(language)]


def _fill(template: str, values: Mapping[str, str]) -> str:
    used = placeholders(template)
    if not used <= ALLOWED_PLACEHOLDERS:
        raise ValueError("template uses a placeholder that is not allowed")
    return template.format_map({k: values[k] for k in used})


def _check_inputs(kind: Kind, refs: Refs | None, local_start: datetime | None) -> None:
    # Enforced at run time as well, for callers mypy never sees.
    if refs is not None and not isinstance(refs, Refs):
        raise TypeError("refs must be a Refs")
    if not isinstance(kind, Kind):
        raise TypeError("kind must be a Kind")
    if local_start is not None and not isinstance(local_start, datetime):
        raise TypeError("local_start must be a datetime")
