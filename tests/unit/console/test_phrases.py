"""The matcher's waiting-list phrases in the page's language."""

from __future__ import annotations

import re
from pathlib import Path

from alongside.api.matcher.v1 import matcher_pb2 as mpb
from alongside.console import i18n
from alongside.console.phrases import say

DOMAIN = Path(__file__).parents[3] / "services/matcher/alongside/matcher/domain"
SOURCES = ("reasons.py", "explain.py", "explain_required.py", "explain_group.py")
TEXT = "Speaks Somali or Tigrinya: 0 of the 2 peers who pass the earlier checks"


def summary() -> mpb.Phrase:
    label = mpb.Phrase(template="Speaks {languages}",
                       args=[mpb.PhraseArg(name="languages", values=["so", "ti"], kind="language", joiner="or")])
    return mpb.Phrase(template="{label}: 0 of the {of} peers who pass the earlier checks",
                      args=[mpb.PhraseArg(name="label", kind="phrase", phrase=label),
                            mpb.PhraseArg(name="of", values=["2"], kind="number")])


def test_a_phrase_is_said_in_spanish_with_the_languages_named_in_spanish() -> None:
    i18n.load()
    i18n.activate("es")
    try:
        spanish = "Habla somalí o tigriña: 0 de los 2 pares que superan las comprobaciones anteriores"
        assert say(TEXT, summary()) == spanish
        ages = mpb.Phrase(template="Serves {age} as {types}", args=[
            mpb.PhraseArg(name="age", values=["YOUTH"], kind="age_band"),
            mpb.PhraseArg(name="types", values=["FAMILY_PEER", "YOUTH_PEER"], kind="peer_type", joiner="or")])
        assert say("x", ages) == "Atiende a la franja joven (12-17) como par familiar o par juvenil"
        # A template the catalogue does not know: the matcher's English text, never half a translation.
        assert say(TEXT, mpb.Phrase(template="Something new {x}")) == TEXT
        assert say(TEXT, None) == TEXT
    finally:
        i18n.activate("en")
    assert say(TEXT, summary()) == TEXT  # English: the matcher's own text


def test_every_phrase_the_matcher_can_say_has_a_spanish_template() -> None:
    i18n.load()
    source = "".join((DOMAIN / name).read_text() for name in SOURCES)
    templates = set(re.findall(r'(?:Phrase|_some_of)\(\s*"([^"]+)"', source))
    templates |= set(re.findall(r'fewer = "([^"]+)"', source)) | set(re.findall(r'Constraint\.\w+: "([^"]+)"', source))
    assert len(templates) >= 65
    i18n.activate("es")
    try:
        missing = sorted(t for t in templates if i18n.gettext(t) == t)
    finally:
        i18n.activate("en")
    assert missing == []


def test_a_shrinking_overlap_is_said_in_spanish_with_the_date_in_spanish() -> None:
    base = mpb.Phrase(template="Available together {duration} a week",
                      args=[mpb.PhraseArg(name="duration", values=["7 h 30 min"], kind="text")])
    shrinks = mpb.Phrase(template="{before} until {until}, then {then}", args=[
        mpb.PhraseArg(name="before", kind="phrase", phrase=base),
        mpb.PhraseArg(name="until", values=["2027-03-14"], kind="date"),
        mpb.PhraseArg(name="then", values=["2 h 30 min"], kind="text")])  # fmt: skip
    text = "Available together 7 h 30 min a week until 14 March 2027, then 2 h 30 min"
    i18n.load()
    i18n.activate("es")
    try:
        said = say(text, shrinks)
    finally:
        i18n.activate("en")
    assert said == "Disponibles a la vez 7 h 30 min por semana hasta el 14 de marzo de 2027, después 2 h 30 min"
