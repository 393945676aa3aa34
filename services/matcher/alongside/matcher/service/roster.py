"""Roster use cases: upsert a peer, change a status, import a CSV roster."""

from __future__ import annotations

import asyncio

from alongside.api.matcher.v1 import events_pb2 as ev
from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.kit.errors import InvalidArgument, NotFound
from alongside.kit.ids import check_id
from alongside.kit.uow import Tx
from alongside.matcher.domain import model as m
from alongside.matcher.domain.model import Peer
from alongside.matcher.domain.validation import validate_peer
from alongside.matcher.mappers import enum_in, enum_out, peer_in, peer_out
from alongside.matcher.service.context import Context, emit, idem, parse_reply
from alongside.matcher.service.roster_csv import parse_roster

MAX_IMPORT_BYTES = 5 * 1024 * 1024


class Roster:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def _stage(self, tx: Tx, peer: Peer, previous: pb.Peer | None) -> pb.Peer:
        stored = peer_out(peer, version=(previous.version if previous else 0) + 1)
        self.ctx.store.put_peer(tx.pipe, stored)
        upserted = ev.PeerUpserted(
            peer_id=stored.peer_id,
            status=stored.status,
            time_zone=stored.time_zone,
            availability=stored.availability,
            version=stored.version,
        )
        emit(tx, "peer.upserted", upserted, stored.peer_id)
        return stored

    async def upsert(self, req: pb.UpsertPeerRequest) -> pb.UpsertPeerResponse:
        key = idem("UpsertPeer", req.idempotency_key, req)
        peer = validate_peer(peer_in(req.peer), prefix="peer.")

        async def body(tx: Tx) -> bytes:
            await tx.watch(self.ctx.store.k.peer(peer.peer_id))
            previous = await self.ctx.store.peer(peer.peer_id, via=tx.pipe)
            (load,) = await self.ctx.store.loads([peer.peer_id], via=tx.pipe)
            tx.begin()
            stored = self._stage(tx, peer, previous)
            stored.load = load
            return pb.UpsertPeerResponse(peer=stored).SerializeToString()

        reply = parse_reply(pb.UpsertPeerResponse, await self.ctx.uow.run(body, idempotency=key))
        self.ctx.cache.invalidate()
        return reply

    async def set_status(self, req: pb.SetPeerStatusRequest) -> pb.SetPeerStatusResponse:
        key = idem("SetPeerStatus", req.idempotency_key, req)
        status = enum_in("status", req.status, pb.PeerStatus, m.PeerStatus)
        assert status is not None
        check_id("peer_id", req.peer_id)

        async def body(tx: Tx) -> bytes:
            await tx.watch(self.ctx.store.k.peer(req.peer_id))
            peer = await self.ctx.store.peer(req.peer_id, via=tx.pipe)
            if peer is None:
                raise NotFound("peer not found")
            previous = peer.status
            peer.status = enum_out(pb.PeerStatus, status)  # an int the stubs type as the enum
            peer.version += 1
            tx.begin()
            self.ctx.store.put_peer(tx.pipe, peer)
            changed = ev.PeerStatusChanged(
                peer_id=peer.peer_id, status=peer.status, previous_status=previous, version=peer.version
            )
            emit(tx, "peer.status_changed", changed, peer.peer_id)
            return pb.SetPeerStatusResponse(peer=peer).SerializeToString()

        reply = parse_reply(pb.SetPeerStatusResponse, await self.ctx.uow.run(body, idempotency=key))
        self.ctx.cache.invalidate()
        return reply

    async def import_roster(self, req: pb.ImportRosterRequest) -> pb.ImportRosterResponse:
        key = idem("ImportRoster", req.idempotency_key, req)
        if len(req.csv) > MAX_IMPORT_BYTES:
            raise InvalidArgument("csv", f"must be at most {MAX_IMPORT_BYTES // (1024 * 1024)} MiB")
        # Parsing and validating thousands of rows takes seconds of CPU: in a
        # thread, so the event loop (health, other calls) gets its turn every few ms.
        peers, errors = await asyncio.to_thread(parse_roster, req.csv)
        if req.dry_run:
            return pb.ImportRosterResponse(imported=0, errors=errors)

        async def body(tx: Tx) -> bytes:
            keys = [self.ctx.store.k.peer(p.peer_id) for p in peers]
            if keys:
                await tx.watch(*keys)
            previous = await self.ctx.store.peers_by_id([p.peer_id for p in peers], via=tx.pipe)
            tx.begin()
            for peer in peers:
                self._stage(tx, peer, previous.get(peer.peer_id))
            return pb.ImportRosterResponse(imported=len(peers), errors=errors).SerializeToString()

        reply = parse_reply(pb.ImportRosterResponse, await self.ctx.uow.run(body, idempotency=key))
        self.ctx.cache.invalidate()
        return reply
