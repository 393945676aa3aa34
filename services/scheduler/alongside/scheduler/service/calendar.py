"""The peer's calendar: windows and status from the roster's events, and time off.

The roster is the only source of weekly windows, so there is no RPC to edit
them. Versions keep the latest copy: windows and status each remember the
version they came from, and an older event never overwrites a newer one
(events from two streams may arrive in any order).
"""

from __future__ import annotations

from datetime import timedelta

from alongside.api.matcher.v1 import events_pb2 as matcher_ev
from alongside.api.matcher.v1 import matcher_pb2 as matcher_pb
from alongside.api.scheduler.v1 import scheduler_pb2 as pb
from alongside.kit.errors import InvalidArgument, NotFound
from alongside.kit.ids import check_id, new_id
from alongside.kit.uow import Idempotency, Tx
from alongside.scheduler.adapters.codec import encode_windows
from alongside.scheduler.adapters.keys import peer_tag, require_peer_id
from alongside.scheduler.adapters.store import span_value
from alongside.scheduler.domain.model import Interval
from alongside.scheduler.domain.validation import zone
from alongside.scheduler.entrypoints import mappers
from alongside.scheduler.service.context import Context, parse

MAX_TIME_OFF = timedelta(days=366)


class Calendar:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def peer_upserted(self, msg: matcher_ev.PeerUpserted) -> None:
        peer_id = require_peer_id(msg.peer_id)
        zone(msg.time_zone, "time_zone")
        windows = mappers.windows_in(msg.availability, "availability")
        fresh = {
            b"tz": msg.time_zone.encode(),
            b"windows": encode_windows(windows).encode(),
            b"av": str(msg.version).encode(),
        }
        await self._apply(peer_id, msg.version, fresh, msg.status)

    async def peer_status_changed(self, msg: matcher_ev.PeerStatusChanged) -> None:
        await self._apply(require_peer_id(msg.peer_id), msg.version, {}, msg.status)

    async def _apply(self, peer_id: str, version: int, availability: dict[bytes, bytes], status: int) -> None:
        """Write what is newer than the stored copy, field group by field group."""
        key = self.ctx.store.k.cal(peer_id)
        await self.ctx.store.r.sadd(self.ctx.store.k.peers, peer_id)

        async def body(tx: Tx) -> bytes:
            await tx.watch(key)
            current = await tx.pipe.hgetall(key)
            fields: dict[bytes, bytes] = {}
            if availability and version > int(current.get(b"av", b"0")):
                fields.update(availability)
            if version > int(current.get(b"sv", b"0")):
                active = b"1" if status == matcher_pb.PEER_STATUS_ACTIVE else b"0"
                fields.update({b"active": active, b"sv": str(version).encode()})
            tx.begin()
            if fields:
                tx.pipe.hset(key, mapping=fields)  # type: ignore[arg-type]
            return b""

        await self.ctx.uow.run(body)

    async def add_time_off(self, req: pb.AddTimeOffRequest) -> pb.AddTimeOffResponse:
        peer_id = require_peer_id(req.peer_id)
        idem = Idempotency.of(
            peer_tag(peer_id), "AddTimeOff", req.idempotency_key, req.SerializeToString(deterministic=True)
        )
        start, end = mappers.ts_in(req, "start"), mappers.ts_in(req, "end")
        if end <= start:
            raise InvalidArgument("end", "must be after start")
        if end - start > MAX_TIME_OFF:
            raise InvalidArgument("end", "time off may last at most a year")
        mappers.future(end, self.ctx.clock(), "end")
        span = Interval(start, end)
        time_off_id = new_id("off")
        await self.ctx.store.r.sadd(self.ctx.store.k.peers, peer_id)

        async def body(tx: Tx) -> bytes:
            overlapping = [sid for sid, _ in await self.ctx.store.booked(peer_id, start, end)]
            tx.begin()
            tx.pipe.hset(self.ctx.store.k.off(peer_id), time_off_id, span_value(span))
            response = pb.AddTimeOffResponse(
                time_off=mappers.time_off_out(time_off_id, peer_id, span), overlapping_session_ids=overlapping
            )
            return response.SerializeToString()

        return parse(pb.AddTimeOffResponse, await self.ctx.uow.run(body, idempotency=idem))

    async def remove_time_off(self, req: pb.RemoveTimeOffRequest) -> pb.RemoveTimeOffResponse:
        peer_id = require_peer_id(req.peer_id)
        idem = Idempotency.of(
            peer_tag(peer_id), "RemoveTimeOff", req.idempotency_key, req.SerializeToString(deterministic=True)
        )
        check_id("time_off_id", req.time_off_id)
        key = self.ctx.store.k.off(peer_id)

        async def body(tx: Tx) -> bytes:
            await tx.watch(key)
            if not await tx.pipe.hexists(key, req.time_off_id):
                raise NotFound("time off not found")
            tx.begin()
            tx.pipe.hdel(key, req.time_off_id)
            return pb.RemoveTimeOffResponse().SerializeToString()

        return parse(pb.RemoveTimeOffResponse, await self.ctx.uow.run(body, idempotency=idem))
