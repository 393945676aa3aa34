"""The Python side of ``enrol.lua``: one enrolment, seat check and event in one step."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from alongside.kit.events.envelope import Event
from alongside.kit.functions import fcall
from alongside.scheduler.adapters.functions import ENROL


@dataclass(frozen=True)
class EnrolOutcome:
    """``ok`` or ``replay`` with the stored ``response``; ``closed``; ``already`` (``letter``)."""

    kind: str
    response: str = ""
    fingerprint: bytes = b""
    letter: str = ""


@dataclass(frozen=True)
class EnrolKeys:
    state: str
    enrolled: str
    waiting: str
    outbox: str
    idem: str


class Enrolling:
    def __init__(self, r: aioredis.Redis) -> None:
        self._r = r

    async def enrol(
        self,
        keys: EnrolKeys,
        ref: str,
        enrolment_id: str,
        now_ms: int,
        fingerprint: bytes,
        ttl_s: int,
        events: tuple[Event, Event],
    ) -> EnrolOutcome:
        """``events``: the one sent if a seat is free, and the one if the participant waits."""
        args: list[bytes | str | int] = [ref, enrolment_id, now_ms, fingerprint, ttl_s]
        for event in events:
            args += [event.type, event.body, json.dumps(event.headers())]
        reply: Any = await fcall(
            self._r, ENROL.name, [keys.state, keys.enrolled, keys.waiting, keys.outbox, keys.idem], args
        )
        kind = _text(reply[0])
        if kind == "replay":
            return EnrolOutcome(kind, response=_text(reply[2]), fingerprint=bytes(reply[1]))
        if kind == "ok":
            return EnrolOutcome(kind, response=_text(reply[1]))
        if kind == "already":
            return EnrolOutcome(kind, letter=_text(reply[1]))
        return EnrolOutcome(kind)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
