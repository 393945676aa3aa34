"""The Python side of ``commit.lua``: build one guarded write, run it, read the outcome.

A ``Commit`` collects, for one peer's hash tag, what the caller read and
expects unchanged, the candidate intervals to check against the peer's
calendar, and the writes (records, indexes, reminders, outbox entries and
the idempotency record). The script applies all of it or none of it.

The ``Committer`` sends the commits that arrive together in one pipeline
(group commit): each is still its own function call, atomic on its own, but
a busy scheduler pays one round trip per batch rather than one per booking.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis

from alongside.kit.events.envelope import Event
from alongside.kit.redis import MAX_BATCH, PipelinedFunction
from alongside.scheduler.adapters.functions import COMMIT

REFUSALS = ("time_off", "conflict", "daily_cap")


@dataclass(frozen=True)
class Candidate:
    """An interval to check, with the bounds of its peer-local day (for the cap); epoch ms."""

    start: int
    end: int
    day_start: int
    day_end: int


@dataclass(frozen=True)
class Outcome:
    """``ok``, ``replay`` (fingerprint, response), ``stale`` or a refusal of candidate
    ``index``; a conflict with a stored session names that session's span (epoch ms)."""

    kind: str
    index: int = 0
    fingerprint: bytes = b""
    response: bytes = b""
    taken: tuple[int, int] | None = None


@dataclass
class Commit:
    keys: dict[str, int] = field(default_factory=dict)
    blobs: list[bytes] = field(default_factory=list)
    spec: dict[str, Any] = field(default_factory=lambda: {"ops": []})
    tags: set[str] = field(default_factory=set)

    def key(self, name: str) -> int:
        """The 1-based KEYS index of ``name`` (each key passed once)."""
        return self.keys.setdefault(name, len(self.keys) + 1)

    def blob(self, value: bytes | str) -> int:
        """The 1-based index of a binary value; all travel packed in ARGV[2]."""
        self.blobs.append(value.encode() if isinstance(value, str) else value)
        return len(self.blobs)

    def replay_from(self, idem_key: str) -> None:
        self.spec["idem"] = [self.key(idem_key)]

    def expect(self, key: str, field_name: str, value: bytes | None) -> None:
        """Refuse as ``stale`` unless HGET key field is still ``value`` (None: absent)."""
        ref = 0 if value is None else self.blob(value)
        self.spec.setdefault("expect", []).append([self.key(key), field_name, ref])

    def check(
        self,
        booked: str,
        off: str,
        candidates: list[Candidate],
        *,
        buffer_ms: int,
        maxlen_ms: int,
        cap: int,
        ignore: list[str] | None = None,
    ) -> None:
        self.spec["check"] = {
            "booked": self.key(booked),
            "off": self.key(off),
            "buffer": buffer_ms,
            "maxlen": maxlen_ms,
            "cap": cap,
            "ignore": list(ignore or []),
            "cands": [[c.start, c.end, c.day_start, c.day_end] for c in candidates],
        }

    def _op(self, *parts: Any) -> None:
        self.spec["ops"].append(parts)

    def hset(self, key: str, field_name: str, value: bytes | str) -> None:
        self._op("hset", self.key(key), field_name, self.blob(value))

    def hdel(self, key: str, field_name: str) -> None:
        self._op("hdel", self.key(key), field_name)

    def zadd(self, key: str, score: int, member: str) -> None:
        self._op("zadd", self.key(key), score, member)

    def zrem(self, key: str, member: str) -> None:
        self._op("zrem", self.key(key), member)

    def sadd(self, key: str, member: str) -> None:
        self._op("sadd", self.key(key), member)

    def srem(self, key: str, member: str) -> None:
        self._op("srem", self.key(key), member)

    def emit(self, tag: str, outbox_key: str, event: Event) -> None:
        """Append to the tag's outbox stream in the kit's entry format."""
        headers = json.dumps(event.headers())
        self._op("xadd", self.key(outbox_key), self.blob(event.type), self.blob(event.body), self.blob(headers))
        self.tags.add(tag)

    def remember(self, idem_key: str, fingerprint: bytes, response: bytes, ttl_s: int) -> None:
        self._op("idem", self.key(idem_key), self.blob(fingerprint), self.blob(response), ttl_s)

    def args(self) -> tuple[list[str], list[bytes]]:
        """KEYS, and ARGV: the spec, then every binary value back to back (few
        arguments keep the client's per-argument encoding cheap)."""
        self.spec["sizes"] = [len(b) for b in self.blobs]
        spec = json.dumps(self.spec, separators=(",", ":")).encode()
        return list(self.keys), [spec, b"".join(self.blobs)]


class Committer:
    """Runs commits, pipelining those that arrive while a batch is in flight."""

    def __init__(self, r: aioredis.Redis, max_batch: int = MAX_BATCH) -> None:
        self._script = PipelinedFunction(r, COMMIT.name, max_batch)

    @property
    def round_trips(self) -> int:
        return self._script.round_trips

    async def run(self, commit: Commit) -> Outcome:
        keys, argv = commit.args()
        return outcome_of(await self._script(keys, argv))


def outcome_of(reply: list[Any]) -> Outcome:
    kind = _text(reply[0])
    if kind == "replay":
        return Outcome(kind, fingerprint=bytes(reply[1]), response=bytes(reply[2]))
    if kind in REFUSALS:
        taken = (int(reply[2]), int(reply[3])) if len(reply) > 3 else None
        return Outcome(kind, index=int(reply[1]) - 1, taken=taken)
    return Outcome(kind)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
