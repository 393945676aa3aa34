"""Erasing a participant from the scheduler, on ``match.participant_erased``.

The event names the erased matches and their peers (ids only). Their
sessions (``bymatch``) tell us the participant's reference; sessions booked
for that reference by hand, with any peer, are found through each peer's
``byp:<ref>`` index. Then, in order:

1. once their ``session.booked`` events have left the outbox, delete the ``session.booked``
   events of those sessions from the session stream (they carry the
   reference);
2. per peer, one transaction clears the reference and the participant's zone
   from each session and series, deletes the ``byp:<ref>`` index and the
   idempotency records whose stored replies carry the sessions;
3. every group session roster renames the participant's place
   (``group_erasure.py``);
4. one transaction drops the matches from the planner's queue (it holds the
   participant's windows) and emits ``session.erasure_confirmed``, once per
   erasure (an idempotency record keyed by the erasure id).

Kept: session ids, peers, times, statuses and the match ids (the facts of
the service delivered). Every step is idempotent: a redelivered or
re-published event finds nothing left and confirms nothing twice.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

from alongside.api.matcher.v1 import events_pb2 as matcher_ev
from alongside.api.scheduler.v1 import events_pb2 as ev
from alongside.kit.erasure import unrelayed
from alongside.kit.events.envelope import Event
from alongside.kit.logging import get_logger
from alongside.kit.uow import Idempotency, Tx
from alongside.scheduler.adapters.codec import decode_series, decode_session, encode_series, encode_session
from alongside.scheduler.adapters.keys import peer_tag, require_peer_id, require_ref
from alongside.scheduler.domain.model import Session
from alongside.scheduler.service.auto import PLAN_TAG
from alongside.scheduler.service.context import Context
from alongside.scheduler.service.events import event
from alongside.scheduler.service.group_erasure import GroupErasure

log = get_logger(__name__)
ScrubStream = Callable[[set[str]], Awaitable[int]]


class OutboxBusy(Exception):
    """A peer's outbox still holds events: scrub the stream once they are relayed."""


class Erasures:
    def __init__(self, ctx: Context, scrub_stream: ScrubStream) -> None:
        self.ctx, self._scrub_stream = ctx, scrub_stream

    async def erased(self, incoming: Event) -> None:
        msg = incoming.parse(matcher_ev.ParticipantErased)
        erasure_id = require_ref(msg.erasure_id, "erasure_id")
        by_peer, refs = await self._sessions(msg)
        for peer_id, ids in by_peer.items():
            if await unrelayed(self.ctx.store.r, self.ctx.outbox.key(peer_tag(peer_id)), "session.booked", ids):
                raise OutboxBusy("a session.booked is not relayed yet; the event will be retried")
        await self._scrub_stream({sid for ids in by_peer.values() for sid in ids})
        for peer_id, ids in by_peer.items():
            await self._scrub_peer(peer_id, ids, refs)
        await GroupErasure(self.ctx).scrub(refs)
        scrubbed = sum(len(ids) for ids in by_peer.values())
        await self._confirm(erasure_id, [m.match_id for m in msg.matches], scrubbed)
        log.info("erasure.scrubbed", erasure_id=erasure_id, sessions=scrubbed)

    async def _sessions(self, msg: matcher_ev.ParticipantErased) -> tuple[dict[str, set[str]], set[str]]:
        """Session ids per peer, and the participant references they name."""
        store = self.ctx.store
        by_peer: dict[str, set[str]] = {}
        refs: set[str] = set()
        for match in msg.matches:
            peer_id = require_peer_id(match.peer_id, "matches.peer_id")
            ids = await store.match_session_ids(peer_id, match.match_id)
            for raw in await store.sessions_raw(peer_id, ids):
                if raw is not None:
                    session = decode_session(raw)
                    by_peer.setdefault(peer_id, set()).add(session.id)
                    refs |= {session.participant_ref} if session.participant_ref else set()
        for peer_id in await store.members(store.k.peers) if refs else []:
            for ref in refs:
                found: Any = await store.r.zrange(store.k.by_participant(peer_id, ref), 0, -1)
                manual = {m.decode().partition("|")[2] for m in found}
                if manual:
                    by_peer.setdefault(peer_id, set()).update(manual)
        return by_peer, refs

    async def _scrub_peer(self, peer_id: str, ids: set[str], refs: set[str]) -> None:
        k = self.ctx.store.k
        stale = await self._replays_mentioning(peer_id, ids)

        async def body(tx: Tx) -> bytes:
            await tx.watch(k.sessions(peer_id), k.series(peer_id))
            raws: Any = await tx.pipe.hmget(k.sessions(peer_id), sorted(ids))
            sessions = [decode_session(bytes(raw)) for raw in raws if raw is not None]
            series_ids = sorted({s.series_id for s in sessions if s.series_id})
            series_raws: Any = await tx.pipe.hmget(k.series(peer_id), series_ids) if series_ids else []
            tx.begin()
            for session in sessions:
                tx.pipe.hset(k.sessions(peer_id), session.id, encode_session(_scrubbed(session)))
            for raw in series_raws:
                if raw is not None:
                    series = decode_series(bytes(raw))
                    cleared = dataclasses.replace(series, participant_ref="", participant_tz=None)
                    tx.pipe.hset(k.series(peer_id), series.id, encode_series(cleared))
            for ref in refs:
                tx.pipe.delete(k.by_participant(peer_id, ref))
            if stale:
                tx.pipe.delete(*stale)
            return b""

        await self.ctx.uow.run(body)

    async def _replays_mentioning(self, peer_id: str, ids: set[str]) -> list[str]:
        """The peer's idempotency records whose stored reply holds one of the sessions."""
        r, needles, stale = self.ctx.store.r, [i.encode() for i in ids], []
        async for key in r.scan_iter(match=self.ctx.store.k.idem(peer_tag(peer_id), "*", "*"), count=1000):
            reply = await r.hget(key, "response")
            if reply is not None and any(n in reply for n in needles):
                stale.append(key.decode() if isinstance(key, bytes) else str(key))
        return stale

    async def _confirm(self, erasure_id: str, match_ids: list[str], scrubbed: int) -> None:
        pending = self.ctx.store.k.pending
        once = Idempotency.of(PLAN_TAG, "ErasureConfirmed", erasure_id, erasure_id.encode())

        async def body(tx: Tx) -> bytes:
            tx.begin()
            if match_ids:
                tx.pipe.hdel(pending, *match_ids)
            confirmed = ev.ErasureConfirmed(erasure_id=erasure_id, sessions_scrubbed=scrubbed)
            tx.emit(PLAN_TAG, event("session.erasure_confirmed", confirmed, erasure_id))
            return b""

        await self.ctx.uow.run(body, idempotency=once)


def _scrubbed(session: Session) -> Session:
    return dataclasses.replace(session, participant_ref="", participant_tz=None)
