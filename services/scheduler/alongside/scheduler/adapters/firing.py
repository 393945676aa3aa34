"""The Python side of ``fire.lua``: claim due reminders and queue their events."""

from __future__ import annotations

import json

import redis.asyncio as aioredis

from alongside.kit.events.envelope import Event
from alongside.kit.functions import fcall
from alongside.scheduler.adapters.functions import FIRE


class Firing:
    def __init__(self, r: aioredis.Redis) -> None:
        self._r = r

    async def fire(self, reminders_key: str, outbox_key: str, entries: list[tuple[str, Event | None]]) -> int:
        """Claim each reminder id; append its event (None: drop silently). Returns events queued."""
        args: list[bytes | str] = []
        for reminder_id, event in entries:
            if event is None:
                args += [reminder_id, "", "", ""]
            else:
                args += [reminder_id, event.type, event.body, json.dumps(event.headers())]
        if not args:
            return 0
        return int(await fcall(self._r, FIRE.name, [reminders_key, outbox_key], args))
