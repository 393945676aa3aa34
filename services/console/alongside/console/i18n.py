"""English and Spanish: gettext catalogues (``locale/<lang>/LC_MESSAGES/messages.po``)
compiled in memory at start-up with Babel, so there is no build step.

The language of the request being served lives in a context variable that
the templates' ``_``/``gettext`` read. The services' own messages (for
example INVALID_ARGUMENT texts) are msgids too, so they are translated the
same way; one without a translation shows in English.
"""

from __future__ import annotations

import contextvars
import gettext as stdlib_gettext
import io
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LANGUAGES = {"en": "English", "es": "Español"}
DEFAULT = "en"
LOCALE_DIR = Path(__file__).parent / "locale"

_current: contextvars.ContextVar[str] = contextvars.ContextVar("console_language", default=DEFAULT)
_catalogues: dict[str, stdlib_gettext.NullTranslations] = {}


def load(locale_dir: Path = LOCALE_DIR) -> None:
    """Compile every catalogue once; a malformed one fails start-up."""
    _catalogues.clear()
    _catalogues[DEFAULT] = stdlib_gettext.NullTranslations()
    for lang in LANGUAGES:
        po = locale_dir / lang / "LC_MESSAGES" / "messages.po"
        if lang == DEFAULT or not po.exists():
            continue
        with po.open("rb") as f:
            catalog = read_po(f, locale=lang)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        _catalogues[lang] = Translations(buffer)


def chosen(language: str) -> str:
    return language if language in LANGUAGES else DEFAULT


def activate(language: str) -> contextvars.Token[str]:
    return _current.set(chosen(language))


def current() -> str:
    return _current.get()


def _catalogue() -> stdlib_gettext.NullTranslations:
    if not _catalogues:
        load()
    return _catalogues.get(_current.get(), _catalogues[DEFAULT])


def gettext(message: str) -> str:
    return _catalogue().gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _catalogue().ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """``message`` as meant in ``context`` (``msgctxt``), else as meant everywhere else.

    The same English word can need two translations: "Matched" counts people
    on the dashboard ("Emparejados") and names a request's status elsewhere
    ("Asignada").
    """
    catalogue = _catalogue()
    found = catalogue.pgettext(context, message)
    if found == message:
        return catalogue.gettext(message)
    return found
