"""A participant was erased: remove every notification about their matches.

On ``match.participant_erased`` (ids only: the erasure, its matches and
their peers) each peer's notifications about those matches are removed
(``adapters/erasures.py``), then ``notification.erasure_confirmed`` is
emitted once per erasure: an idempotency record keyed by the erasure id
makes a redelivered or re-published event confirm nothing twice. Kept: the
``notification.sent``/``failed`` events in the stream (ids only) and the
audit trail. Emails and webhooks already sent carried generic texts only.
"""

from __future__ import annotations

from alongside.api.notifier.v1 import events_pb2 as ev
from alongside.kit.events.envelope import Event
from alongside.kit.logging import get_logger
from alongside.kit.uow import Idempotency, Tx, UnitOfWork
from alongside.notifier.adapters.due_index import DueIndex
from alongside.notifier.adapters.erasures import ErasureStore
from alongside.notifier.adapters.events import SOURCE
from alongside.notifier.service.model import Job

log = get_logger(__name__)
TAG = "erasure"


class Erasures:
    def __init__(self, uow: UnitOfWork, store: ErasureStore, due: DueIndex) -> None:
        self._uow, self._store, self._due = uow, store, due

    async def handle(self, erasure_id: str, matches: list[tuple[str, str]]) -> int:
        """Remove the notifications about each (peer, match); how many went."""
        removed = 0
        for peer_id, match_id in matches:
            removed += await self._forget(peer_id, match_id)
        await self._confirm(erasure_id, removed)
        log.info("erasure.scrubbed", erasure_id=erasure_id, notifications=removed)
        return removed

    async def _forget(self, peer_id: str, match_id: str) -> int:
        outcome: list[tuple[int, list[Job]]] = []

        async def body(tx: Tx) -> bytes:
            outcome[:] = [await self._store.forget(tx, peer_id, match_id)]
            return b""

        await self._uow.run(body)
        count, jobs = outcome[0]
        for job in jobs:  # the index is a hint: a missed removal finds the job gone
            await self._due.remove(job)
        return count

    async def _confirm(self, erasure_id: str, removed: int) -> None:
        once = Idempotency.of(TAG, "ErasureConfirmed", erasure_id, erasure_id.encode())
        body_ = ev.ErasureConfirmed(erasure_id=erasure_id, notifications_removed=removed)

        async def body(tx: Tx) -> bytes:
            tx.emit(TAG, Event.of("notification.erasure_confirmed", SOURCE, body_, subject=erasure_id))
            return b""

        await self._uow.run(body, idempotency=once)
