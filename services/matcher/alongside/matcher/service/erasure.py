"""Participant erasure: on request (where the programme permits it) and at
the end of retention.

One transaction replaces each of the participant's match requests by a
tombstone of ids and dates, clears the participant from their matches,
drops the idempotency records whose stored replies carry their data, keeps
an ``Erasure`` record (ids only) and emits ``match.participant_erased``.
Then the matcher deletes its own ``match.accepted`` events about those
matches from the match stream and confirms; the scheduler and the notifier
confirm through their own events (``entrypoints/confirmations.py``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from alongside.api.matcher.v1 import events_pb2 as ev
from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.kit.aio import wait_any
from alongside.kit.erasure import unrelayed
from alongside.kit.errors import FailedPrecondition, InvalidArgument, NotFound
from alongside.kit.ids import new_id
from alongside.kit.logging import get_logger
from alongside.kit.uow import Idempotency, Tx
from alongside.matcher.adapters.store import TAG
from alongside.matcher.domain.validation_rules import check_id
from alongside.matcher.service.context import Context, emit, idem, parse_reply

log = get_logger(__name__)
SERVICES = ("matcher", "scheduler", "notifier")
# Idempotency records whose stored reply can hold a participant's data.
REPLAYS_WITH_DATA = (
    "SubmitMatchRequest",
    "DeclineMatch",
    "AcceptMatch",
    "CloseMatch",
    "ConfirmBatch",
    "RunBatchMatch",  # its proposals carry their explanations
)
RETENTION = "retention"
PENDING_RETRY_S = 0.2
# Deletes the matcher's own events about erased matches from its stream.
ScrubStream = Callable[[set[str]], Awaitable[int]]


class Erasures:
    def __init__(self, ctx: Context, scrub_stream: ScrubStream) -> None:
        self.ctx, self._scrub_stream = ctx, scrub_stream
        self.wakeup = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        """Finish new erasures at once (retrying while the outbox or NATS lags),
        and sweep for participants past retention every ERASURE_SWEEP_SECONDS."""
        loop = asyncio.get_running_loop()
        next_sweep = 0.0
        while not stop.is_set():
            if loop.time() >= next_sweep:
                next_sweep = loop.time() + self.ctx.settings.erasure_sweep_seconds
                try:
                    await self.sweep_retention()
                except Exception as exc:  # noqa: BLE001 - logged; the next pass tries again
                    log.warning("erasure.sweep_failed", error=type(exc).__name__)
            left = await self.finish_pending()
            await wait_any((stop, self.wakeup), PENDING_RETRY_S if left else max(0.0, next_sweep - loop.time()))
            self.wakeup.clear()

    async def erase(self, req: pb.EraseParticipantRequest, requested_by: str) -> pb.EraseParticipantResponse:
        if not self.ctx.settings.erasure_on_request:
            raise FailedPrecondition("this programme does not erase participants on request (ERASURE_ON_REQUEST)")
        key = idem("EraseParticipant", req.idempotency_key, req)
        check_id("participant_ref", req.participant_ref)
        if req.reason not in (pb.ERASURE_REASON_UNSPECIFIED, pb.ERASURE_REASON_ON_REQUEST):
            raise InvalidArgument("reason", "must be ON_REQUEST; retention erasures are the matcher's own")
        request_ids = await self.ctx.store.request_ids_of(req.participant_ref)
        raw = await self._commit(req.participant_ref, request_ids, pb.ERASURE_REASON_ON_REQUEST, requested_by, key)
        self.wakeup.set()
        reply = parse_reply(pb.EraseParticipantResponse, raw)
        # The stored reply as first committed, with the confirmations as they stand.
        return pb.EraseParticipantResponse(erasure=await self.get(reply.erasure.erasure_id))

    async def get(self, erasure_id: str) -> pb.Erasure:
        check_id("erasure_id", erasure_id)
        found = await self.ctx.store.erasure(erasure_id)
        if found is None:
            raise NotFound("erasure not found")
        return found

    async def _commit(
        self, ref: str, request_ids: list[str], reason: int, requested_by: str, key: Idempotency | None = None
    ) -> bytes:
        store = self.ctx.store
        erasure = pb.Erasure(erasure_id=new_id("er"), requested_by=requested_by, awaiting=SERVICES)
        erasure.reason = reason  # type: ignore[assignment]
        erasure.requested_at.FromDatetime(self.ctx.clock())
        stale = await self._replays_mentioning(request_ids)

        async def body(tx: Tx) -> bytes:
            await tx.watch(store.k.by_ref(ref), *(store.k.request(i) for i in request_ids))
            tombstones, matches = [], []
            for request_id in request_ids:
                found = await store.request(request_id, via=tx.pipe)
                if found is None:  # erased already, under another key
                    continue
                state = found[1]
                match = await store.match(state.match_id, via=tx.pipe) if state.match_id else None
                if match is not None and match.status == pb.MATCH_STATUS_ACTIVE:
                    raise FailedPrecondition(f"match {match.match_id} is active: close it before erasing")
                tombstones.append(_tombstone(state))
                if match is not None:
                    matches.append(match)
            if not tombstones:
                raise NotFound("no match request is held for this participant")
            del erasure.request_ids[:], erasure.match_ids[:]
            erasure.request_ids.extend(t.request_id for t in tombstones)
            erasure.match_ids.extend(m.match_id for m in matches)
            tx.begin()
            for tombstone in tombstones:
                store.put_erased_request(tx.pipe, tombstone, erasure.erasure_id)
            for match in matches:
                match.participant_ref, match.acuity = "", 0
                store.put_match(tx.pipe, match)
            if stale:
                tx.pipe.delete(*stale)
            tx.pipe.delete(store.k.by_ref(ref))
            store.put_erasure(tx.pipe, erasure)
            tx.pipe.zadd(store.k.erasures_pending, {erasure.erasure_id: int(time.time() * 1000)})
            erased = ev.ParticipantErased(
                erasure_id=erasure.erasure_id,
                request_ids=erasure.request_ids,
                matches=[ev.ErasedMatch(match_id=m.match_id, peer_id=m.peer_id) for m in matches],
            )
            emit(tx, "match.participant_erased", erased, erasure.erasure_id)
            return pb.EraseParticipantResponse(erasure=erasure).SerializeToString()

        raw = await self.ctx.uow.run(body, idempotency=key)
        self.ctx.cache.invalidate()
        return raw

    async def _replays_mentioning(self, request_ids: list[str]) -> list[str]:
        """Idempotency records whose stored reply names one of the requests or
        their matches: a replay must not hand the erased data back."""
        s = self.ctx.store
        needles = [i.encode() for i in request_ids]
        for request_id in request_ids:
            found = await s.request(request_id)
            if found and found[1].match_id:
                needles.append(found[1].match_id.encode())
        stale: list[str] = []
        for scope in REPLAYS_WITH_DATA:
            async for k in s.r.scan_iter(match=s.k.idem_pattern(scope), count=1000):
                reply = await s.r.hget(k, "response")
                if reply is not None and any(n in reply for n in needles):
                    stale.append(k.decode() if isinstance(k, bytes) else k)
        return stale

    async def finish(self, erasure_id: str) -> bool:
        """Scrub the match stream once every ``match.accepted`` about the
        erased matches has left the outbox for the stream, then confirm for
        the matcher. False: try later."""
        store = self.ctx.store
        erasure = await store.erasure(erasure_id)
        if erasure is None:
            return True
        if await unrelayed(store.r, self.ctx.uow.outbox.key(TAG), "match.accepted", erasure.match_ids):
            return False
        try:
            deleted = await self._scrub_stream(set(erasure.match_ids))
        except Exception as exc:  # noqa: BLE001 - NATS down: the sweep tries again
            log.warning("erasure.stream_scrub_failed", erasure_id=erasure_id, error=type(exc).__name__)
            return False
        log.info("erasure.stream_scrubbed", erasure_id=erasure_id, deleted=deleted)
        await self.confirm(erasure_id, "matcher")
        await store.r.zrem(store.k.erasures_pending, erasure_id)
        return True

    async def confirm(self, erasure_id: str, service: str) -> None:
        """Record that ``service`` has scrubbed its share; idempotent."""
        store = self.ctx.store

        async def body(tx: Tx) -> bytes:
            await tx.watch(store.k.erasure(erasure_id))
            erasure = await store.erasure(erasure_id, via=tx.pipe)
            if erasure is None or any(c.service == service for c in erasure.confirmations):
                return b""
            done = erasure.confirmations.add(service=service)
            done.confirmed_at.FromDatetime(self.ctx.clock())
            erasure.complete = set(erasure.awaiting) <= {c.service for c in erasure.confirmations}
            tx.begin()
            store.put_erasure(tx.pipe, erasure)
            return b""

        await self.ctx.uow.run(body)
        log.info("erasure.confirmed", erasure_id=erasure_id, service=service)

    async def finish_pending(self, limit: int = 100) -> int:
        """Finish the erasures still pending; how many are left."""
        store, left = self.ctx.store, 0
        for erasure_id in await store.r.zrange(store.k.erasures_pending, 0, limit - 1):
            left += not await self.finish(erasure_id.decode() if isinstance(erasure_id, bytes) else str(erasure_id))
        return left

    async def sweep_retention(self) -> list[str]:
        """Erase the participants past retention; the erasure ids made."""
        store, made, seen = self.ctx.store, list[str](), set[str]()
        days = self.ctx.settings.retention_days
        if days <= 0:
            return made
        until_ms = int((self.ctx.clock().timestamp() - days * 86400) * 1000)
        for request_id in await store.finished_before(until_ms):
            found = await store.request(request_id)
            if found is None:  # erased meanwhile
                await store.r.zrem(store.k.finished, request_id)
                continue
            ref = found[0].participant.participant_ref
            if ref in seen:  # another of their requests decided it already
                continue
            seen.add(ref)
            erasure_id = await self._erase_if_due(ref, until_ms)
            if erasure_id:
                made.append(erasure_id)
                self.wakeup.set()
        return made

    async def _erase_if_due(self, ref: str, until_ms: int) -> str:
        """Due when none of the participant's requests is open or has an active
        match, and the last of their matches closed before ``until_ms``."""
        store = self.ctx.store
        request_ids = await store.request_ids_of(ref)
        for request_id in request_ids:
            score = await store.r.zscore(store.k.finished, request_id)
            if score is None or score > until_ms:
                return ""
        try:
            raw = await self._commit(ref, request_ids, pb.ERASURE_REASON_RETENTION, RETENTION)
        except (FailedPrecondition, NotFound):  # a match reopened; or another replica was first
            return ""
        return parse_reply(pb.EraseParticipantResponse, raw).erasure.erasure_id


def _tombstone(state: pb.MatchRequest) -> pb.MatchRequest:
    """What is kept of a request: its id, when it was made, its match."""
    kept = pb.MatchRequest(request_id=state.request_id, status=pb.REQUEST_STATUS_ERASED, match_id=state.match_id)
    kept.created_at.CopyFrom(state.created_at)
    return kept
