"""Erasing a participant from group session rosters.

A roster holds the participant's reference (the entry, the enrolled or
waiting set, attendance). On erasure each such place is renamed to
``~erased:<enrolment id>`` (never a valid reference, so no one can enrol
under it), keeping the seat, the place in the queue and the attendance
counts; the roster's version is bumped so a withdrawal built from the old
roster is re-read, and the withdrawal replies that hold the reference are
deleted. Group events never held it (they carry enrolment ids).
"""

from __future__ import annotations

from typing import Any

from alongside.kit.uow import Tx
from alongside.scheduler.adapters.group_store import GroupStore
from alongside.scheduler.adapters.keys import peer_tag
from alongside.scheduler.domain.groups import ERASED, RosterEntry
from alongside.scheduler.service.context import Context


class GroupErasure:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.groups = GroupStore(ctx.store)

    async def scrub(self, refs: set[str]) -> int:
        """Rename ``refs`` in every roster; returns how many places were renamed."""
        store, renamed = self.ctx.store, 0
        for host in await store.members(store.k.peers) if refs else []:
            touched = False
            for group in await self.groups.hosted(host):
                for ref in refs:
                    if await store.r.hexists(store.k.group(host, group.id), f"e:{ref}"):
                        renamed += await self._rename(host, group.id, ref)
                        touched = True
            if touched:
                await self._forget_replies(host, refs)
        return renamed

    async def _rename(self, host: str, group_id: str, ref: str) -> int:
        k = self.ctx.store.k
        state, enrolled, waiting, att = (k.group(host, group_id, *rest) for rest in ((), ("in",), ("wait",), ("att",)))
        done = 0

        async def body(tx: Tx) -> bytes:
            nonlocal done
            await tx.watch(state, enrolled, waiting, att)
            raw: Any = await tx.pipe.hget(state, f"e:{ref}")
            version: Any = await tx.pipe.hget(state, "v")
            seat: Any = await tx.pipe.zscore(enrolled, ref)
            place: Any = await tx.pipe.zscore(waiting, ref)
            marks: Any = await tx.pipe.hgetall(att)
            tx.begin()
            if raw is None:
                return b""
            alias = ERASED + RosterEntry.decode(ref, raw.decode()).enrolment_id
            tx.pipe.hdel(state, f"e:{ref}")
            tx.pipe.hset(state, f"e:{alias}", raw)
            tx.pipe.hset(state, "v", str(int(version or 0) + 1))
            for key, score in ((enrolled, seat), (waiting, place)):
                if score is not None:
                    tx.pipe.zrem(key, ref)
                    tx.pipe.zadd(key, {alias: score})
            for name, letter in marks.items():
                index, _, who = name.decode().partition("|")
                if who == ref:
                    tx.pipe.hdel(att, name)
                    tx.pipe.hset(att, f"{index}|{alias}", letter)
            done = 1
            return b""

        await self.ctx.uow.run(body)
        return done

    async def _forget_replies(self, host: str, refs: set[str]) -> None:
        """Withdrawal replies name the participant (and the one promoted)."""
        r, needles, stale = self.ctx.store.r, [ref.encode() for ref in refs], []
        async for key in r.scan_iter(match=self.ctx.store.k.idem(peer_tag(host), "WithdrawParticipant", "*")):
            reply = await r.hget(key, "response")
            if reply is not None and any(n in reply for n in needles):
                stale.append(key)
        if stale:
            await r.delete(*stale)
