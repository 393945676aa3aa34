"""Plain-language names for codes and tags, for explanations.

Unknown codes fall back to the code itself, so a new tag still reads sensibly.
"""

from __future__ import annotations

from collections.abc import Iterable

from alongside.matcher.domain.model import AgeBand, Modality, PeerType

LANGUAGES = {
    "am": "Amharic", "ar": "Arabic", "ase": "American Sign Language", "bn": "Bengali",
    "chr": "Cherokee", "de": "German", "el": "Greek", "en": "English", "fa": "Persian",
    "fil": "Filipino", "fr": "French", "haw": "Hawaiian", "he": "Hebrew", "hi": "Hindi",
    "hmn": "Hmong", "ht": "Haitian Creole", "hy": "Armenian", "it": "Italian",
    "ja": "Japanese", "km": "Khmer", "ko": "Korean", "ku": "Kurdish", "lo": "Lao",
    "mh": "Marshallese", "my": "Burmese", "ne": "Nepali", "nv": "Navajo", "om": "Oromo",
    "pa": "Punjabi", "pl": "Polish", "prs": "Dari", "ps": "Pashto", "pt": "Portuguese",
    "ru": "Russian", "sm": "Samoan", "so": "Somali", "es": "Spanish", "sw": "Swahili",
    "ti": "Tigrinya", "tl": "Tagalog", "to": "Tongan", "tr": "Turkish", "uk": "Ukrainian",
    "ur": "Urdu", "vi": "Vietnamese", "yi": "Yiddish", "yue": "Cantonese", "zh": "Chinese",
    "cmn": "Mandarin",
}  # fmt: skip

PATHWAYS = {
    "medication_assisted": "medication-assisted recovery",
    "twelve_step": "twelve-step recovery",
    "smart": "SMART Recovery",
    "harm_reduction": "harm reduction",
    "faith_based": "faith-based recovery",
    "secular": "secular recovery",
}

LIVED_EXPERIENCE = {"lgbtq": "LGBTQ+", "veteran": "military service"}

PEER_TYPES = {t: t.value.lower().replace("_", " ") for t in PeerType}

MODALITIES = {
    Modality.IN_PERSON: "in person",
    Modality.PHONE: "by phone",
    Modality.VIDEO: "by video",
    Modality.TEXT: "by text",
}

AGE_BANDS = {
    AgeBand.CHILD: "children (under 12)",
    AgeBand.YOUTH: "youth (12-17)",
    AgeBand.YOUNG_ADULT: "young adults (18-25)",
    AgeBand.ADULT: "adults (26-64)",
    AgeBand.OLDER_ADULT: "older adults (65+)",
}


def language(code: str) -> str:
    """'so' -> 'Somali'; 'es-mx' -> 'Spanish (MX)'; unknown codes stay as they are."""
    base, _, region = code.partition("-")
    name = LANGUAGES.get(code) or LANGUAGES.get(base)
    if name is None:
        return code
    return f"{name} ({region.upper()})" if region and code not in LANGUAGES else name


def tag(value: str) -> str:
    return value.replace("_", " ")


def pathway(value: str) -> str:
    return PATHWAYS.get(value, tag(value))


def lived_experience(value: str) -> str:
    return LIVED_EXPERIENCE.get(value, tag(value))


def join(items: Iterable[str], word: str = "and") -> str:
    """['a', 'b', 'c'] -> 'a, b and c' (sorted input gives stable text)."""
    parts = list(items)
    if len(parts) <= 1:
        return "".join(parts)
    return f"{', '.join(parts[:-1])} {word} {parts[-1]}"


MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")  # fmt: skip


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def duration(minutes: int) -> str:
    """135 -> '2 h 15 min'; 300 -> '5 h'; 45 -> '45 min'."""
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest} min" if rest else f"{hours} h"
