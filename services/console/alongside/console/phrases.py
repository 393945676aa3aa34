"""The matcher's explanations in the page's language.

The matcher sends each funnel step and waiting-list summary as English
``text`` and as a ``Phrase``: an English template with ``{name}``
placeholders (the message id of this console's catalogue) and its values
with their kinds. ``say`` renders the phrase in the current language:
language codes named by Babel, peer types, age bands and ways to meet from
the console's own words, lists joined the language's way. In English, or
when the catalogue lacks the template or the phrase is missing, the
matcher's own text is shown.
"""

from __future__ import annotations

import contextlib
from datetime import date
from typing import Any

from babel import Locale
from babel.dates import format_date
from babel.lists import format_list

from alongside.console import i18n
from alongside.console.intake_form import CHOICES

# The matcher's enum value names that have a word in intake_form.CHOICES, by kind.
ENUM_KINDS = ("peer_type", "age_band", "modality")


def say(text: str, phrase: Any = None) -> str:
    language = i18n.current()
    if language == i18n.DEFAULT or phrase is None or not phrase.template:
        return i18n.gettext(text)
    found = _render(phrase, language)
    return found if found is not None else i18n.gettext(text)


def _render(phrase: Any, language: str) -> str | None:
    template = i18n.gettext(phrase.template)
    if template == phrase.template:
        return None  # not in the catalogue: the English text reads better than half a translation
    values: dict[str, str] = {}
    for arg in phrase.args:
        if arg.kind == "phrase":
            nested = _render(arg.phrase, language)
            if nested is None:
                return None
            values[arg.name] = nested
            continue
        names = [_name(arg.kind, v, language) for v in arg.values]
        joined = format_list(names, style="or", locale=language) if arg.joiner == "or" else format_list(
            names, style="standard", locale=language)
        values[arg.name] = joined if names else ""
    with contextlib.suppress(KeyError, IndexError, ValueError):
        return template.format(**values)
    return None


def _name(kind: str, value: str, language: str) -> str:
    if kind == "language":
        base = value.split("-")[0]
        return Locale.parse(language).languages.get(value) or Locale.parse(language).languages.get(base) or value
    if kind == "date":
        return format_date(date.fromisoformat(value), format="long", locale=language)
    if kind in ENUM_KINDS and value in CHOICES:
        return i18n.gettext(CHOICES[value]).lower()
    return value
