"""Texts as a template and its values, so a client can say them in its language.

A ``Phrase`` is an English sentence with ``{name}`` placeholders (the stable
message id a client's catalogue translates) and the values that fill them,
each with its kind: codes a client can name in its own language (language
codes, peer types, age bands, ways to meet), numbers, or the programme's own
words (tags), shown as given. ``english`` renders the phrase as the API's
``text``: the one source of both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from alongside.matcher.domain import labels
from alongside.matcher.domain.model import AgeBand, Modality, PeerType

KINDS = ("language", "peer_type", "age_band", "modality", "number", "text", "phrase", "date")


@dataclass(frozen=True)
class Arg:
    name: str
    values: tuple[str, ...]
    kind: str  # one of KINDS
    joiner: str = ""  # "and" or "or" between several values
    phrase: Phrase | None = None  # kind "phrase": a phrase of its own, said first

    @classmethod
    def number(cls, name: str, value: int) -> Arg:
        return cls(name, (str(value),), "number")

    @classmethod
    def nested(cls, name: str, phrase: Phrase) -> Arg:
        return cls(name, (), "phrase", phrase=phrase)


@dataclass(frozen=True)
class Phrase:
    template: str
    args: tuple[Arg, ...] = ()


def _name(kind: str, value: str) -> str:
    if kind == "language":
        return labels.language(value)
    if kind == "peer_type":
        return labels.PEER_TYPES[PeerType(value)]
    if kind == "age_band":
        return labels.AGE_BANDS[AgeBand(value)]
    if kind == "modality":
        return labels.MODALITIES[Modality(value)]
    if kind == "date":  # ISO 8601, said "14 March 2027"
        day = date.fromisoformat(value)
        return f"{day.day} {labels.MONTHS[day.month - 1]} {day.year}"
    return value


def english(phrase: Phrase) -> str:
    values = {
        a.name: english(a.phrase)
        if a.phrase is not None
        else labels.join((_name(a.kind, v) for v in a.values), a.joiner or "and")
        for a in phrase.args
    }
    return phrase.template.format(**values)
