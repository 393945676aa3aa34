"""Text a person types -> protobuf values, with errors that name the field.

Weekly windows read like the roster CSV: ``mon 09:00-12:00``. Enum values
are written in lowercase words (``recovery_coach`` or ``recovery coach``).
Instants are ISO 8601; one without an offset is read in the given zone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from google.protobuf.timestamp_pb2 import Timestamp

from alongside.api.common.v1 import types_pb2
from alongside.cli.errors import CliError, ExitCode

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WINDOW = re.compile(r"^([a-z]{3})[a-z]*\s+(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")


def bad(field: str, rule: str) -> CliError:
    """An input error that names the field first and says how to fix it."""
    return CliError(f"{field}: {rule}", ExitCode.BAD_INPUT, "INVALID_ARGUMENT")


def window(field: str, text: str) -> types_pb2.WeeklyWindow:
    """``mon 09:00-12:00`` -> WeeklyWindow(day=MONDAY, 540, 720); ``24:00`` ends a day."""
    found = _WINDOW.match(" ".join(str(text).lower().split()))
    if not found or found.group(1) not in DAYS:
        raise bad(field, "must look like 'mon 09:00-12:00' (day, start-end in 24-hour local time)")
    day, h1, m1, h2, m2 = found.groups()
    start, end = int(h1) * 60 + int(m1), int(h2) * 60 + int(m2)
    if int(m1) > 59 or int(m2) > 59 or not 0 <= start < end <= 1440:
        raise bad(field, "must start before it ends, within one day (00:00-24:00)")
    return types_pb2.WeeklyWindow(day=DAYS.index(day) + 1, start_minute=start, end_minute=end)  # type: ignore[arg-type]


def windows(field: str, texts: Iterable[str]) -> list[types_pb2.WeeklyWindow]:
    """Each text may hold several windows separated by ';'."""
    out: list[types_pb2.WeeklyWindow] = []
    for text in texts:
        for part in str(text).split(";"):
            if part.strip():
                out.append(window(f"{field}[{len(out)}]", part))
    return out


def window_text(w: types_pb2.WeeklyWindow) -> str:
    """The inverse of ``window``."""
    day = DAYS[w.day - 1] if 1 <= w.day <= 7 else "?"
    return (
        f"{day} {w.start_minute // 60:02d}:{w.start_minute % 60:02d}-{w.end_minute // 60:02d}:{w.end_minute % 60:02d}"
    )


def choices(enum: Any) -> list[str]:
    """The names a person may type for ``enum``, without the UNSPECIFIED value."""
    prefix = enum.DESCRIPTOR.values[0].name.removesuffix("UNSPECIFIED")
    return [v.name.removeprefix(prefix).lower() for v in enum.DESCRIPTOR.values if v.number]


def enum_value(field: str, enum: Any, text: object, exclude: tuple[str, ...] = ()) -> Any:
    """``recovery coach`` / ``recovery_coach`` / ``RECOVERY-COACH`` -> the proto number.

    ``exclude`` names values a caller may not send (set only by the server)."""
    name = "_".join(str(text).replace("-", " ").split()).lower()
    allowed = [c for c in choices(enum) if c not in exclude]
    if name not in allowed:
        raise bad(field, f"must be one of {', '.join(allowed)}")
    prefix = enum.DESCRIPTOR.values[0].name.removesuffix("UNSPECIFIED")
    return enum.Value(prefix + name.upper())


def enum_values(field: str, enum: Any, texts: Iterable[object]) -> list[Any]:
    return [enum_value(f"{field}[{i}]", enum, t) for i, t in enumerate(texts)]


def zone(field: str, name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise bad(field, "must be an IANA time zone such as America/New_York") from None


def local_zone() -> tzinfo:
    return datetime.now().astimezone().tzinfo or UTC


def instant(field: str, value: object, in_zone: tzinfo | None = None) -> datetime:
    """ISO 8601 text, a date or a datetime -> an aware datetime.

    Without an offset the time is read in ``in_zone`` (default: this
    machine's zone); a bare date means midnight there.
    """
    where = in_zone or local_zone()
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip().replace(" ", "T", 1))
        except ValueError:
            raise bad(field, "must be a date or time such as 2027-03-04 or 2027-03-04T10:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=where)


def timestamp(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment.astimezone(UTC))
    return stamp
