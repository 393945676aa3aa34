"""Spanish is complete: every message of the templates and the form's labels has a translation."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

import alongside.console
from alongside.console import dashboard_view, group_form, i18n, intake_form, views
from alongside.console.routes import group_sessions, groups, preferences, roster, roster_edit

ROOT = Path(alongside.console.__file__).parent


def messages() -> set[str]:
    found: set[str] = set()
    options = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    for _, _, message, _, _ in extract_from_dir(str(ROOT), [("templates/**.html", "jinja2")], options_map=options):
        found.add(message[0] if isinstance(message, tuple) else message)
    for table in (intake_form.LABELS, intake_form.CHOICES, intake_form.DAY_NAMES, intake_form.DAY_SHORT,
                  views.STATUS_WORDS, preferences.KINDS, roster.STATUS_WORDS, roster_edit.LABELS,
                  group_sessions.MODALITIES, group_sessions.STATUSES, group_sessions.ATTENDANCE,
                  group_sessions.REFUSALS, group_form.LABELS, group_form.PATHWAYS, group_form.AUDIENCES,
                  group_form.MODALITIES):
        found.update(table.values())
    found.update((group_form.MEETINGS_SHAPE, group_form.TAKEN, group_form.CHOOSE, groups.ZONE_INVALID))
    return found


def test_every_message_has_a_spanish_translation() -> None:
    with (ROOT / "locale" / "es" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalogue = read_po(f, locale="es")
    translated = {m.id[0] if isinstance(m.id, tuple) else m.id for m in catalogue if m.id and m.string and not m.fuzzy}
    missing = sorted(messages() - translated)
    assert missing == [], f"add these to locale/es/LC_MESSAGES/messages.po: {missing}"


def test_the_language_is_per_request_and_unknown_ones_fall_back_to_english() -> None:
    i18n.load()
    i18n.activate("es")
    assert i18n.gettext("New intake") == "Nueva admisión"
    assert i18n.gettext("must be a known IANA time zone") == "debe ser una zona horaria IANA conocida"
    i18n.activate("xx")
    assert i18n.current() == "en" and i18n.gettext("New intake") == "New intake"


def test_no_message_is_in_the_catalogue_twice() -> None:
    """A second entry with the same id and context silently replaces the first one's translation."""
    text = (ROOT / "locale" / "es" / "LC_MESSAGES" / "messages.po").read_text()
    entries = re.findall(r'^(?:msgctxt "(.*)"\n)?msgid "(.+)"$', text, flags=re.MULTILINE)
    twice = sorted({entry for entry in entries if entries.count(entry) > 1})
    assert twice == [], f"give one of each a msgctxt, or remove it: {twice}"


def test_a_word_with_two_meanings_takes_its_translation_from_its_context() -> None:
    i18n.load()
    i18n.activate("es")
    assert i18n.gettext("Matched") == "Asignada", "a request's status"
    assert i18n.pgettext(dashboard_view.CONTEXT, "Matched") == "Emparejados", "people counted on the dashboard"
    assert i18n.pgettext(dashboard_view.CONTEXT, "Waiting") == "En espera"
    assert i18n.pgettext(dashboard_view.CONTEXT, "New intake") == "Nueva admisión", "no context entry: the plain one"
    i18n.activate("en")
    assert i18n.pgettext(dashboard_view.CONTEXT, "Matched") == "Matched"
