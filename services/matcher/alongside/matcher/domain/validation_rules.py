"""Field-level checks shared by peer and request validation.

Each check raises ``InvalidArgument(field, message)``. Messages state the rule
and never echo the value: a value may be personal, and the field name is
enough for the caller to find it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum
from functools import lru_cache
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from alongside.kit.errors import InvalidArgument
from alongside.kit.ids import MAX_ID_LENGTH as MAX_ID_LENGTH  # ids: the kit's one rule
from alongside.kit.ids import check_id as check_id
from alongside.matcher.domain.model import WeeklyWindow

# Limits keep one request's work bounded and reject obviously broken input.
MAX_TAG_LENGTH = 64
MAX_VALUES = 50
MAX_WINDOWS = 42
MAX_EXCLUDED = 500
MINUTES_PER_DAY = 1440

_LANGUAGE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,8})*")

E = TypeVar("E", bound=StrEnum)


def check_enum(field: str, value: object, enum: type[E]) -> E:
    """Return ``value`` as a member of ``enum``; unknown names are rejected."""
    if isinstance(value, enum):
        return value
    if not isinstance(value, str):
        raise InvalidArgument(field, f"is not a known {enum.__name__}")
    try:
        return enum(value)
    except ValueError:
        raise InvalidArgument(field, f"is not a known {enum.__name__}") from None


def enum_set(field: str, values: Iterable[object], enum: type[E]) -> frozenset[E]:
    """Every value must name a member of ``enum``."""
    items = list(values)
    check_count(field, len(items))
    return frozenset(check_enum(field, v, enum) for v in items)


def check_count(field: str, count: int, limit: int = MAX_VALUES) -> None:
    if count > limit:
        raise InvalidArgument(field, f"must list at most {limit} values")


def check_int(field: str, value: object, low: int, high: int) -> None:
    """An integer within ``[low, high]`` (booleans are not integers here)."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidArgument(field, "must be an integer")
    if not low <= value <= high:
        raise InvalidArgument(field, f"must be between {low} and {high}")


def normal_tag(field: str, value: object, *, upper: bool = False) -> str:
    """Trim, fold case and join inner spaces with '_'; 1-64 printable characters."""
    if not isinstance(value, str):
        raise InvalidArgument(field, "must be text")
    tag = "_".join(value.split())
    tag = tag.upper() if upper else tag.lower()
    if not tag:
        raise InvalidArgument(field, "must not be empty")
    if len(tag) > MAX_TAG_LENGTH or not tag.isprintable():
        raise InvalidArgument(field, f"must be at most {MAX_TAG_LENGTH} printable characters")
    return tag


def tag_set(field: str, values: Iterable[object], *, upper: bool = False) -> frozenset[str]:
    items = list(values)
    check_count(field, len(items))
    return frozenset(normal_tag(field, v, upper=upper) for v in items)


def optional_tag(field: str, value: str) -> str:
    """Like ``normal_tag`` but '' (not given) stays ''."""
    return normal_tag(field, value) if value.strip() else ""


def language_set(field: str, values: Iterable[object]) -> frozenset[str]:
    """Lowercase BCP-47 style codes such as ``so``, ``es-mx`` or ``ase``."""
    tags = tag_set(field, values)
    for tag in tags:
        if not _LANGUAGE.fullmatch(tag):
            raise InvalidArgument(field, "must hold language codes such as 'en' or 'es-mx'")
    return tags


def check_time_zone(field: str, value: str) -> None:
    """An IANA time zone name that zoneinfo knows, such as ``America/New_York``."""
    if not isinstance(value, str) or not _known_zone(value):
        raise InvalidArgument(field, "must be a known IANA time zone")


@lru_cache(maxsize=1024)
def _known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def check_windows(field: str, windows: tuple[WeeklyWindow, ...], *, required: bool) -> None:
    """At most 42 windows, each on day 0-6 with 0 <= start < end <= 1440."""
    if required and not windows:
        raise InvalidArgument(field, "must list at least one window")
    if len(windows) > MAX_WINDOWS:
        raise InvalidArgument(field, f"must list at most {MAX_WINDOWS} windows")
    for i, window in enumerate(windows):
        if not _plainly_valid(window):
            check_window(f"{field}[{i}]", window)


def _plainly_valid(window: WeeklyWindow) -> bool:
    """The common case, checked at once; anything else gets ``check_window``'s detail."""
    day, start, end = window.day, window.start_minute, window.end_minute
    return type(day) is int and type(start) is int and type(end) is int and 0 <= day <= 6 and 0 <= start < end <= 1440


def check_window(field: str, window: WeeklyWindow) -> None:
    check_int(f"{field}.day", window.day, 0, 6)
    check_int(f"{field}.start_minute", window.start_minute, 0, MINUTES_PER_DAY - 1)
    check_int(f"{field}.end_minute", window.end_minute, 1, MINUTES_PER_DAY)
    if window.end_minute <= window.start_minute:
        raise InvalidArgument(field, "must end after it starts")
