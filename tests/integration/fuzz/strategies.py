"""Hypothesis strategies built from protobuf message descriptors.

Every field of a request gets values a hostile or careless client could
send: oversize and odd-Unicode strings (combining marks, right-to-left
text, NUL, emoji, thousands of characters), unknown enum numbers, the
extremes of every integer type, NaN and infinities, Timestamps and
Durations outside protobuf's range, and repeated fields of random and
over-the-bound lengths. Fields whose names say what they hold (ids, zones,
languages, emails...) also get plausible values, so calls reach past the
first check into the handlers.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import cache
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass
from hypothesis import strategies as st

F = FieldDescriptor
NOW = int(datetime(2027, 3, 3, 15, tzinfo=UTC).timestamp())
MAX_DEPTH = 4
WELL_KNOWN = ("google.protobuf.Timestamp", "google.protobuf.Duration")
# Sizes around the kit's default bounds and well past them.
BIG_LENGTHS = (63, 64, 65, 199, 200, 201, 255, 256, 257, 2049, 70_000)
BIG_COUNTS = (41, 42, 43, 50, 51, 99, 100, 101, 501)

ODD = [
    "\u0000",  # NUL
    "e\u0301\u0301\u0301",  # combining marks
    "\u202eevil\u202c",  # right-to-left override
    "\u05e9\u05dc\u05d5\u05dd",  # Hebrew
    "\u0645\u0631\u062d\u0628\u0627",  # Arabic
    "\U0001f642\U0001f469\u200d\U0001f467",  # emoji, ZWJ sequence
    "\ufeff",  # byte order mark
    "\u00df",  # upper() makes it two characters
    "..",
    "/",
    "*",
    "%s%n",
    "' OR 1=1 --",
    "{peer:1}",
    "a|b",
    ";",
    " ",
    "\n",
]
TAME_IDS = ["p1", "p2", "ref-1", "m-1", "req-1"]
IDS = ["p1", "peer-1", "p-1", "req-1", "m-1", "s-1", "p1~s0", "ref-1", "x", "test-admin", "0", "A.b_c:d-e"]
# Ids the services handed out in earlier answers, by field name (``request_id``,
# ``session_id``...), so later calls can name objects that exist.
POOL: dict[str, list[str]] = {}


def _singular(name: str) -> str:
    return name[:-1] if name.endswith("_ids") else name


def pooled(name: str, fallback: list[str]) -> st.SearchStrategy[str]:
    key = _singular(name)

    def pick(i: int) -> str:
        found = POOL.get(key) or POOL.get("peer_id" if key.endswith("peer_id") else key) or fallback
        return found[i % len(found)]

    return st.integers(0, 10**6).map(pick)


def odd_text(max_size: int = 40) -> st.SearchStrategy[str]:
    pieces = st.one_of(st.sampled_from(ODD), st.text(max_size=8))
    return st.lists(pieces, max_size=6).map("".join).map(lambda s: s[:max_size])


def oversize() -> st.SearchStrategy[str]:
    return st.builds(
        lambda c, n: c * n, st.sampled_from(["x", "\u00e9", "\U0001f642", "e\u0301", " "]), st.sampled_from(BIG_LENGTHS)
    )


# Plausible values by field name, then values of the same kind that are wrong.
TAME_HINTS: dict[str, list[str]] = {
    "time_zone": ["UTC", "America/New_York", "Europe/Madrid", "Asia/Kathmandu"],
    "language": ["en", "es", "so", "es-mx"],
    "email": ["p@example.org"],
    "webhook_url": ["https://example.org/hook"],
    "page_token": [""],
    "session_type": ["intake", "follow_up", "check_in"],
    "recipients": ["assigned-peer", "programme"],
}
WILD_HINTS: dict[str, list[str]] = {
    "time_zone": ["Mars/Base", "", "utc", "../../etc/passwd", "America/New_York\u0000"],
    "language": ["EN", "x", "en_US", "zz-zzzz-zzzz"],
    "email": ["a@b", "not-an-email", "@", "p@localhost", "x" * 70 + "@example.org"],
    "webhook_url": ["http://127.0.0.1:9/h", "ftp://x", "https://", "javascript:1"],
    "page_token": ["!!", "0", "-1", "99999999999999999999", "cDF8MTIz", "AAAA", "\u0000"],
    "session_type": ["therapy", ""],
    "recipients": ["everyone", ""],
}


_KEYS = itertools.count()


def _fresh_key(_: str) -> str:
    return f"fuzz-{next(_KEYS)}"


def _kind(name: str) -> str | None:
    if name.endswith(("_id", "_ids", "_ref")):
        return "id"
    if "time_zone" in name:
        return "time_zone"
    if name in ("language", "languages"):
        return "language"
    return name if name in TAME_HINTS or name == "idempotency_key" else None


def _hinted(name: str, tame: bool = False) -> st.SearchStrategy[str] | None:
    kind = _kind(name)
    if kind is None:
        return None
    if kind == "id":
        return pooled(name, TAME_IDS) if tame else weighted((3, pooled(name, IDS)), (1, st.sampled_from(IDS)))
    if kind == "idempotency_key":
        # Mostly fresh (a reused key with another request is refused), now and then a repeat.
        return weighted((4, st.just("").map(_fresh_key)), (1, st.from_regex(r"k-[a-z0-9]{1,3}", fullmatch=True)))
    if tame:
        return st.sampled_from(TAME_HINTS[kind])
    return st.sampled_from(TAME_HINTS[kind] + WILD_HINTS[kind])


def string_for(fd: F) -> st.SearchStrategy[str]:
    base = [odd_text(), oversize(), st.just("")]
    hinted = _hinted(fd.name)
    if hinted is not None:
        return weighted((3, hinted), (1, st.one_of(base)))
    return st.one_of(base)


def _roster_csv() -> st.SearchStrategy[bytes]:
    header = "peer_id,types,time_zone,capacity,languages,availability,display_name"
    row = st.tuples(
        st.sampled_from(IDS),
        st.sampled_from(["recovery_coach", "peer_navigator", "nope", ""]),
        st.sampled_from(TAME_HINTS["time_zone"] + WILD_HINTS["time_zone"]),
        st.sampled_from(["1", "0", "-1", "99999999999", "x"]),
        st.sampled_from(TAME_HINTS["language"] + WILD_HINTS["language"]),
        st.sampled_from(["mon 09:00-12:00", "xyz 25:00-26:00", "mon 12:00-09:00", ""]),
        odd_text(20),
    ).map(lambda cells: ",".join('"' + c.replace('"', '""') + '"' for c in cells))
    text = st.lists(row, max_size=5).map(lambda rows: "\n".join([header, *rows]))
    return st.one_of(text.map(str.encode), st.binary(max_size=64), st.just(b"\xff\xfe\x00"))


INTS: dict[int, tuple[int, int]] = {
    F.TYPE_INT32: (-(2**31), 2**31 - 1),
    F.TYPE_SINT32: (-(2**31), 2**31 - 1),
    F.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    F.TYPE_INT64: (-(2**63), 2**63 - 1),
    F.TYPE_SINT64: (-(2**63), 2**63 - 1),
    F.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    F.TYPE_UINT32: (0, 2**32 - 1),
    F.TYPE_FIXED32: (0, 2**32 - 1),
    F.TYPE_UINT64: (0, 2**64 - 1),
    F.TYPE_FIXED64: (0, 2**64 - 1),
}


def integer(low: int, high: int) -> st.SearchStrategy[int]:
    edges = [v for v in (low, high, low + 1, high - 1, -1, 0, 1) if low <= v <= high]
    small = st.integers(max(low, -5), min(high, 2_000))
    return weighted((2, small), (1, st.sampled_from(edges)), (1, st.integers(low, high)))


def timestamp_fields() -> st.SearchStrategy[dict[str, int]]:
    seconds = st.one_of(
        st.integers(NOW - 86_400 * 30, NOW + 86_400 * 60),
        st.sampled_from([0, -1, -62_135_596_800, -62_135_596_801, 253_402_300_799, 253_402_300_800, 2_500_000_000_000]),
        st.integers(-(2**63), 2**63 - 1),
    )
    nanos = st.one_of(
        st.just(0), st.sampled_from([-1, -7, 999_999_999, 1_000_000_000]), st.integers(-(2**31), 2**31 - 1)
    )
    return st.fixed_dictionaries({"seconds": seconds, "nanos": nanos})


def duration_fields() -> st.SearchStrategy[dict[str, int]]:
    seconds = st.one_of(st.integers(-100_000, 100_000), st.sampled_from([315_576_000_001, -(2**63)]))
    nanos = st.one_of(st.just(0), st.integers(-(2**31), 2**31 - 1))
    return st.fixed_dictionaries({"seconds": seconds, "nanos": nanos})


def scalar(fd: F) -> st.SearchStrategy[Any]:
    if fd.type == F.TYPE_STRING:
        return string_for(fd)
    if fd.type == F.TYPE_BYTES:
        return _roster_csv() if fd.name == "csv" else st.one_of(st.binary(max_size=64), st.just(b"\x00" * 70_000))
    if fd.type == F.TYPE_BOOL:
        return st.booleans()
    if fd.type in (F.TYPE_DOUBLE, F.TYPE_FLOAT):
        return st.one_of(
            st.floats(-10, 400), st.sampled_from([0.0, -0.0, float("nan"), float("inf"), -float("inf"), 1e308, 5e-324])
        )
    if fd.type == F.TYPE_ENUM:
        assert fd.enum_type is not None
        known = [v.number for v in fd.enum_type.values]
        return weighted((2, st.sampled_from(known)), (1, st.integers(-(2**31), 2**31 - 1)))
    if fd.type in INTS:
        return integer(*INTS[fd.type])
    raise AssertionError(f"no strategy for {fd.full_name} of type {fd.type}")


def repeated(element: st.SearchStrategy[Any]) -> st.SearchStrategy[list[Any]]:
    few = st.lists(element, max_size=4)
    many = st.builds(lambda x, n: [x] * n, element, st.sampled_from(BIG_COUNTS))
    return weighted((3, few), (1, many))


def weighted(*choices: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """One of the strategies, each as often as its weight (``one_of`` weighs
    equal strategies once, however often they are listed)."""
    pool = [strategy for weight, strategy in choices for _ in range(weight)]
    return st.sampled_from(pool).flatmap(lambda strategy: strategy)


def request(descriptor: Descriptor) -> st.SearchStrategy[Message]:
    """A request: plausible but for exactly one wild field anywhere in it (so
    each check is reached with everything before it passing), plausible with
    the odd wild field, or wild throughout."""
    return weighted((3, mutated(descriptor)), (2, message(descriptor, 0, True)), (1, message(descriptor, 0, False)))


@st.composite
def mutated(draw: st.DrawFn, descriptor: Descriptor) -> Message:
    out: Message = draw(message(descriptor, 0, True, False))
    spots = list(_spots(out, 0))
    # Instants and durations weigh more: few fields hold them, and each is a conversion that can fail.
    spots += [s for s in spots if s[1].message_type is not None and s[1].message_type.full_name in WELL_KNOWN] * 5
    if not spots:  # a request with no fields (GetPolicyRequest): nothing to mutate
        return out
    holder, fd, depth = draw(st.sampled_from(spots))
    wild = _field(fd, depth, False)
    if wild is not None:
        _assign(holder, fd, draw(weighted((4, wild), (1, st.none()))))
    return out


def _spots(message: Message, depth: int) -> Iterator[tuple[Message, Any, int]]:
    """Every field of ``message`` and of the messages set inside it."""
    for fd in message.DESCRIPTOR.fields:
        yield message, fd, depth
        if fd.message_type is None or fd.message_type.full_name.startswith("google.protobuf."):
            continue
        if fd.message_type.GetOptions().map_entry:
            continue
        if fd.is_repeated:
            for item in getattr(message, fd.name):
                yield from _spots(item, depth + 1)
        elif message.HasField(fd.name):
            yield from _spots(getattr(message, fd.name), depth + 1)


def _assign(holder: Message, fd: F, value: Any) -> None:
    holder.ClearField(fd.name)
    if value is None:
        return
    _set(holder, fd.name, value)


@cache
def message(
    descriptor: Descriptor, depth: int = 0, tame: bool = False, odd_field: bool = True, context: str = ""
) -> st.SearchStrategy[Message]:
    """Instances of the message type, each field set or left at its default;
    ``tame`` ones hold plausible values (and, with ``odd_field``, a rare wild one)."""
    cls = GetMessageClass(descriptor)
    if descriptor.full_name == "google.protobuf.Timestamp":
        stamps = tame_timestamp() if tame else timestamp_fields()
        return stamps.map(lambda kw: cls(**kw))
    if descriptor.full_name == "google.protobuf.Duration":
        return duration_fields().map(lambda kw: cls(**kw))
    parts: dict[str, st.SearchStrategy[Any]] = {}
    for fd in descriptor.fields:
        wild = _field(fd, depth, False)
        if wild is None:
            continue
        if tame:
            mild = _field(fd, depth, True, odd_field, context)
            assert mild is not None
            # Without the odd field (the base of a mutation) every field is set: a mutation may clear one.
            parts[fd.name] = weighted((14, mild), (1, wild), (1, st.none())) if odd_field else mild
        else:
            parts[fd.name] = st.one_of(st.none(), wild)
    built = st.fixed_dictionaries(parts).map(_builder(cls))
    return built.map(_tidy) if tame and not odd_field else built


def _tidy(out: Any) -> Any:
    """A plausible window ends after it starts; a plausible series has a count or an end, not both."""
    fields = out.DESCRIPTOR.fields_by_name
    if "count" in fields and "until" in fields and out.count:
        out.ClearField("until")
    if "start_minute" in fields and "end_minute" in fields:
        start, end = out.start_minute, out.end_minute
        if not 0 <= start < end <= 1440:
            out.start_minute = 540
            out.end_minute = 1020
    return out


def _field(fd: F, depth: int, tame: bool, odd_field: bool = True, context: str = "") -> st.SearchStrategy[Any] | None:
    if fd.message_type is not None and fd.message_type.GetOptions().map_entry:
        key, value = fd.message_type.fields_by_name["key"], fd.message_type.fields_by_name["value"]
        if value.message_type is not None:
            return None
        return st.dictionaries(scalar(key), scalar(value), max_size=3)
    if fd.message_type is not None:
        if depth >= MAX_DEPTH:
            return None
        element: st.SearchStrategy[Any] = message(fd.message_type, depth + 1, tame, odd_field, fd.name)
    else:
        element = tame_scalar(fd, context) if tame else scalar(fd)
    if not fd.is_repeated:
        return element
    return st.lists(element, min_size=1, max_size=3) if tame else repeated(element)


def tame_timestamp() -> st.SearchStrategy[dict[str, int]]:
    quarter_hours = st.integers(4, 4 * 24 * 30)
    return quarter_hours.map(lambda q: {"seconds": NOW + q * 900, "nanos": 0})


TAME_INTS = {
    "capacity": (1, 10),
    "acuity": (1, 3),
    "count": (1, 6),
    "page_size": (0, 10),
    "limit": (0, 10),
    "shortlist_size": (0, 5),
    "intake_cap_per_peer": (0, 3),
    "youth_cap_per_peer": (0, 3),
}


# Plausible values that depend on the message's place: Preferences.languages.values
# are language codes, a certification preference is always REQUIRED.
IN_CONTEXT: dict[tuple[str, str], list[Any]] = {
    ("languages", "values"): TAME_HINTS["language"],
    ("certifications", "strength"): [1],
}


def tame_scalar(fd: F, context: str = "") -> st.SearchStrategy[Any]:
    name = fd.name
    if (context, name) in IN_CONTEXT:
        return st.sampled_from(IN_CONTEXT[context, name])
    if fd.type == F.TYPE_STRING:
        hinted = _hinted(name, tame=True)
        if hinted is not None:
            return hinted
        if name == "scope":
            return st.just("peer-support")
        return st.from_regex(r"[a-z][a-z_]{0,10}", fullmatch=True)
    if fd.type == F.TYPE_ENUM:
        assert fd.enum_type is not None
        known = [v.number for v in fd.enum_type.values if v.number] or [0]
        return st.sampled_from(known)
    if fd.type in INTS:
        if name.endswith("_minute"):
            return st.sampled_from([0, 540, 720, 1020, 1439, 1440])
        if name.endswith("minutes"):
            return st.sampled_from([30, 45, 60, 90])
        low, high = TAME_INTS.get(name, (0, 10))
        return st.integers(low, high)
    if fd.type in (F.TYPE_DOUBLE, F.TYPE_FLOAT):
        return st.floats(0.1, 2.0)
    return scalar(fd)


def _builder(cls: type[Message]) -> Callable[[dict[str, Any]], Message]:
    def build(values: dict[str, Any]) -> Message:
        out = cls()
        for name, value in values.items():
            if value is not None:
                _set(out, name, value)
        return out

    return build


def _set(out: Message, name: str, value: Any) -> None:
    field = getattr(out, name)
    if isinstance(value, Message):
        field.CopyFrom(value)
    elif isinstance(value, dict):
        field.update(value)
    elif isinstance(value, list):
        field.extend(value)
    else:
        setattr(out, name, value)
