"""Writing a new notification in one atomic step (``create_notification.lua``).

The check (no record for this notification yet; preferences unchanged since
the plan was made) and every write (record, inbox entry, jobs, outbox
entries) run as one function call: one round trip where WATCH, reads and MULTI/EXEC
take three, which is most of an event's cost. Outbox entries are laid out by
the kit's own ``Outbox.append``, captured and handed to the script.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, cast

import redis.asyncio as aioredis

from alongside.kit.events.envelope import Event
from alongside.kit.events.outbox import Outbox
from alongside.kit.functions import fcall
from alongside.notifier.adapters.codec import encode_entry, encode_record, ms
from alongside.notifier.adapters.functions import CREATE
from alongside.notifier.adapters.keys import NotifierKeys, job_member
from alongside.notifier.domain.model import Channel
from alongside.notifier.service.model import InboxEntry, Job, NotificationRecord


class Outcome(StrEnum):
    CREATED = "created"
    DUPLICATE = "duplicate"
    STALE = "stale"  # the preferences changed: plan again with ``current``
    SUPPRESSED = "suppressed"  # the participant revoked consent for this match


@dataclass(frozen=True, slots=True)
class Created:
    outcome: Outcome
    current: bytes = b""  # the stored preferences, when STALE


class _Captured:
    """Stands in for a pipeline so ``Outbox.append`` shows what it would add."""

    def __init__(self) -> None:
        self.entries: list[Mapping[Any, Any]] = []

    def xadd(self, key: str, fields: Mapping[Any, Any]) -> None:
        self.entries.append(fields)


class NotificationCreator:
    def __init__(
        self, r: aioredis.Redis, keys: NotifierKeys, outbox: Outbox, *, inbox_max: int, retention: timedelta
    ) -> None:
        self._r, self._keys, self._outbox = r, keys, outbox
        self._inbox_max, self._retention = inbox_max, retention

    async def create(
        self,
        record: NotificationRecord,
        entry: InboxEntry | None,
        jobs: Mapping[Channel, datetime],
        events: Sequence[Event],
        *,
        prefs_seen: bytes,
    ) -> Created:
        """Create ``record`` and the rest unless it exists, the stored
        preferences differ from ``prefs_seen`` (b"" for none) or the
        trigger's match (directly or through its session) is revoked."""
        trigger = record.trigger
        peer, nid = trigger.peer_id, trigger.notification_id
        tag = self._keys.tag(peer)
        keys = [self._keys.prefs(peer), self._keys.record(peer, nid), self._keys.inbox(peer)]
        keys += [self._keys.jobs(peer), self._outbox.key(tag)]
        keys += [self._keys.revoked(peer), self._keys.session_matches(peer)]
        ttl = int(self._retention.total_seconds())
        # One JSON argument: packing many small arguments is most of redis-py's cost.
        doc = {
            "ttl": ttl,
            "inbox_max": self._inbox_max,
            "keep_ms": ttl * 1000,
            "record": encode_record(record),
            "entry": encode_entry(nid, entry, record.created) if entry else [],
            "jobs": {job_member(Job(peer, nid, c)): ms(when) for c, when in jobs.items()},
            "match": trigger.match_id or "",
            "session": trigger.session_id or "",
        }
        args: list[Any] = [prefs_seen, json.dumps(doc)]
        captured = _Captured()
        for event in events:
            self._outbox.append(cast(aioredis.client.Pipeline, captured), tag, event)
        for fields in captured.entries:
            args += [len(fields), *(part for pair in fields.items() for part in pair)]
        outcome, current = await fcall(self._r, CREATE.name, keys, args)
        result = Created(Outcome(outcome.decode()), current or b"")
        if result.outcome is Outcome.CREATED and events:
            await self._outbox.committed({tag})
        return result
