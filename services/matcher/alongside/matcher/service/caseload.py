"""ImportCaseload: bring in a programme's active matches from before Alongside.

The whole file is one optimistic transaction, like AcceptMatch: it WATCHes
every named peer, their loads and the record of imported pairs, decides each
row against them (``domain.caseload.plan_import``) and writes the matches,
their request records, the loads, the ``match.imported`` events, the
idempotency record and the audit record in one MULTI/EXEC. Each peer who
got matches also gets one ``match.caseload_imported``, the notifier's cue
for a single generic notice. An accept (or another import) that changes
one of those loads in between makes the EXEC fail and the import decide
again on fresh loads, so no interleaving can over-fill a peer. A bad or over-filling row is left out on its own and
reported by line and field; the others are imported (as ImportRoster does).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, time

from alongside.api.matcher.v1 import events_pb2 as ev
from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.kit.errors import InvalidArgument
from alongside.kit.ids import new_id
from alongside.kit.uow import Tx
from alongside.matcher.adapters.store import Reader
from alongside.matcher.domain.caseload import CaseloadRow, ImportPlan, plan_import
from alongside.matcher.service.caseload_csv import parse_caseload
from alongside.matcher.service.context import Context, emit, idem, parse_reply

MAX_IMPORT_BYTES = 1024 * 1024


class Caseload:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def import_caseload(self, req: pb.ImportCaseloadRequest) -> pb.ImportCaseloadResponse:
        key = idem("ImportCaseload", req.idempotency_key, req)
        if len(req.csv) > MAX_IMPORT_BYTES:
            raise InvalidArgument("csv", f"must be at most {MAX_IMPORT_BYTES // 1024} KiB")
        today = self.ctx.clock().astimezone(UTC).date()
        # Thousands of rows take a while to parse: off the event loop.
        rows, errors = await asyncio.to_thread(parse_caseload, req.csv, today)
        if req.dry_run:
            return _reply(await self._plan(rows, self.ctx.store.r), errors)

        async def body(tx: Tx) -> bytes:
            store = self.ctx.store
            peer_ids = sorted({row.peer_id for row in rows})
            watched = [store.k.peer(i) for i in peer_ids] + [store.k.load(i) for i in peer_ids]
            await tx.watch(store.k.caseload_imported, *watched)
            plan = await self._plan(rows, tx.pipe)
            tx.begin()
            for row in plan.accepted:
                self._stage(tx, row)
            for peer_id, units in sorted(plan.added_load.items()):
                store.add_load(tx.pipe, peer_id, units)
            for peer_id, count in sorted(Counter(row.peer_id for row in plan.accepted).items()):
                # One generic notice per peer (the notifier's), never one per old match.
                emit(tx, "match.caseload_imported", ev.CaseloadImported(peer_id=peer_id, matches=count), peer_id)
            return _reply(plan, errors).SerializeToString()

        reply = parse_reply(pb.ImportCaseloadResponse, await self.ctx.uow.run(body, idempotency=key))
        self.ctx.cache.invalidate()
        return reply

    async def _plan(self, rows: list[CaseloadRow], via: Reader) -> ImportPlan:
        store = self.ctx.store
        peer_ids = sorted({row.peer_id for row in rows})
        peers = await store.peers_by_id(peer_ids, via=via)
        loads = dict(zip(peer_ids, await store.loads(peer_ids, via=via), strict=True))
        imported = await store.imported_pairs(sorted({row.pair for row in rows}), via=via)
        capacity = {peer_id: peer.capacity for peer_id, peer in peers.items()}
        return plan_import(rows, capacity, loads, imported)

    def _stage(self, tx: Tx, row: CaseloadRow) -> None:
        started = datetime.combine(row.start_date, time(), UTC)
        match = pb.Match(
            match_id=new_id("m"),
            request_id=new_id("req"),
            peer_id=row.peer_id,
            participant_ref=row.participant_ref,
            status=pb.MATCH_STATUS_ACTIVE,
            acuity=row.acuity,
            imported=True,
        )
        match.accepted_at.FromDatetime(started)
        state = pb.MatchRequest(
            request_id=match.request_id,
            status=pb.REQUEST_STATUS_MATCHED,
            urgency=pb.URGENCY_ROUTINE,
            match_id=match.match_id,
        )
        state.created_at.FromDatetime(started)
        # No consent is recorded here: the peer's view discloses nothing of the participant.
        submitted = pb.SubmitMatchRequestRequest(
            participant=pb.Participant(participant_ref=row.participant_ref), acuity=row.acuity
        )
        self.ctx.store.put_imported(tx.pipe, row.pair, match, state, submitted)
        imported = ev.MatchImported(
            match_id=match.match_id, request_id=match.request_id, peer_id=match.peer_id, started_at=match.accepted_at
        )
        emit(tx, "match.imported", imported, match.match_id)


def _reply(plan: ImportPlan, errors: list[pb.RowError]) -> pb.ImportCaseloadResponse:
    refused = [pb.RowError(line=r.line, field=r.field, reason=r.reason) for r in plan.refused]
    every: list[pb.RowError] = sorted([*errors, *refused], key=lambda e: e.line)
    return pb.ImportCaseloadResponse(imported=len(plan.accepted), already_imported=plan.already_imported, errors=every)
