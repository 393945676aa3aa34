"""The reminder loop: each reminder fires exactly once, across replicas and restarts.

Reminders wait in a per-peer sorted set, written in the same atomic commit
as their session (and withdrawn the same way on cancel or reschedule).
``fire.lua`` claims a due reminder by removing it and appends its event to
the outbox in the same step, so of any number of replicas exactly one sends
it, and a crash can lose neither the claim nor the event.

Each poll asks every peer's set, in one pipelined round trip, whether
anything is due: there is no index to drift or repair, and reminders that
fell due while no scheduler ran go out on the first poll after one starts.

A facilitator's set also holds the reminders of the groups they host or
co-facilitate (``domain/group_reminders.py``: ids ``~grp:...``, which no
session reminder id can be); each is checked against the group, read from
its host's tag, and fired the same way.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from redis.exceptions import RedisError

from alongside.kit.aio import wait_any
from alongside.kit.events.envelope import Event
from alongside.kit.logging import get_logger
from alongside.scheduler.adapters.codec import decode_session
from alongside.scheduler.adapters.firing import Firing
from alongside.scheduler.adapters.group_codec import decode_group
from alongside.scheduler.adapters.group_store import GroupStore
from alongside.scheduler.adapters.keys import SEP as SCOPE_SEP
from alongside.scheduler.adapters.keys import peer_tag
from alongside.scheduler.domain.group_reminders import is_group_reminder_id, meeting_to_remind, parse_group_reminder_id
from alongside.scheduler.domain.groups import Group
from alongside.scheduler.domain.model import Session, SessionStatus
from alongside.scheduler.domain.reminders import Reminder
from alongside.scheduler.service import group_events
from alongside.scheduler.service.context import Context
from alongside.scheduler.service.events import reminder_due

log = get_logger(__name__)
BATCH = 200
PEERS_PER_TRIP = 500


def parse_reminder_id(reminder_id: str) -> tuple[str, timedelta, int] | None:
    """``<session>:<minutes>m:<sequence>`` -> (session id, offset, sequence)."""
    parts = reminder_id.rsplit(":", 2)
    if len(parts) != 3 or not parts[1].endswith("m") or not parts[1][:-1].isdigit() or not parts[2].isdigit():
        return None
    return parts[0], timedelta(minutes=int(parts[1][:-1])), int(parts[2])


def still_wanted(session: Session | None, sequence: int, now: datetime) -> bool:
    """Only for the session as it is now (booked, same version) and before it ends."""
    return (
        session is not None
        and session.status is SessionStatus.BOOKED
        and session.sequence == sequence
        and now < session.end
    )


class ReminderLoop:
    def __init__(self, ctx: Context, firing: Firing) -> None:
        self.ctx, self.firing = ctx, firing
        self.groups = GroupStore(ctx.store)
        self.fired = 0
        self.polls = 0  # completed polls (a test waits for more to show that nothing fires again)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.fire_due()
            except (RedisError, OSError) as exc:
                # Redis is down: nothing was claimed, so nothing is lost; try again next poll.
                log.warning("reminders.poll_failed", error=type(exc).__name__)
            await wait_any((stop,), self.ctx.settings.reminder_poll_seconds)

    async def fire_due(self) -> int:
        now = self.ctx.clock()
        store = self.ctx.store
        peers = await store.members(store.k.peers)
        fired = 0
        for start in range(0, len(peers), PEERS_PER_TRIP):
            for peer_id in await store.peers_with_due_reminders(peers[start : start + PEERS_PER_TRIP], now):
                fired += await self.fire_peer(peer_id, now)
        self.fired += fired
        self.polls += 1
        return fired

    async def fire_peer(self, peer_id: str, now: datetime) -> int:
        store = self.ctx.store
        due = await store.due_reminders(peer_id, now, BATCH)
        ids = [rid for rid in due if not is_group_reminder_id(rid)]
        parsed = {rid: parse_reminder_id(rid) for rid in ids}
        session_ids = sorted({p[0] for p in parsed.values() if p is not None})
        raws = await store.sessions_raw(peer_id, session_ids)
        sessions = {sid: decode_session(raw) for sid, raw in zip(session_ids, raws, strict=True) if raw is not None}
        entries: list[tuple[str, Event | None]] = []
        for rid, info in parsed.items():
            session = sessions.get(info[0]) if info else None
            if info is None or session is None or not still_wanted(session, info[2], now):
                entries.append((rid, None))
                continue
            reminder = Reminder(rid, session.id, session.start - info[1], info[1])
            entries.append((rid, reminder_due(reminder, session)))
        entries += await self.group_entries(peer_id, [rid for rid in due if is_group_reminder_id(rid)], now)
        tag = peer_tag(peer_id)
        fired = await self.firing.fire(store.k.reminders(peer_id), self.ctx.outbox.key(tag), entries)
        if fired:
            await self.ctx.outbox.committed([tag])
            log.info("reminders.fired", peer_id=peer_id, count=fired)
        return fired

    async def group_entries(self, peer_id: str, ids: list[str], now: datetime) -> list[tuple[str, Event | None]]:
        """Group meeting reminders: an event for a meeting that still holds, else None (dropped unsent)."""
        parsed = {rid: parse_group_reminder_id(rid) for rid in ids}
        groups: dict[str, Group | None] = {}
        for info in parsed.values():
            if info is not None and info.group_id not in groups:
                groups[info.group_id] = await self._group(info.group_id)
        entries: list[tuple[str, Event | None]] = []
        for rid, info in parsed.items():
            meeting = None if info is None else meeting_to_remind(groups.get(info.group_id), peer_id, info, now)
            if info is None or meeting is None:
                entries.append((rid, None))
            else:
                entries.append((rid, group_events.reminder_due(rid, info, peer_id, meeting)))
        return entries

    async def _group(self, group_id: str) -> Group | None:
        host, sep, _ = group_id.partition(SCOPE_SEP)
        if not sep:
            return None
        raw = await self.groups.group_raw(host, group_id)
        return None if raw is None else decode_group(raw)
