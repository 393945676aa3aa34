"""Consent revoked (42 CFR Part 2): say nothing more about that participant.

On ``match.consent_revoked`` the match is recorded as revoked for its peer
and every pending or deferred delivery about it is cancelled, in one
transaction. Later events about the match, or about a session the notifier
has seen belong to it, create no notification (``create_notification.lua``).
"""

from __future__ import annotations

from alongside.kit.logging import get_logger
from alongside.kit.uow import Tx, UnitOfWork
from alongside.notifier.adapters.due_index import DueIndex
from alongside.notifier.adapters.revocations import RevocationStore
from alongside.notifier.service.model import Clock, Job

log = get_logger(__name__)


class Revocations:
    def __init__(self, uow: UnitOfWork, store: RevocationStore, due: DueIndex, clock: Clock) -> None:
        self._uow, self._store, self._due, self._clock = uow, store, due, clock

    async def handle(self, peer_id: str, match_id: str) -> int:
        """Idempotent: a redelivered revocation finds nothing left to cancel."""
        cancelled: list[Job] = []

        async def body(tx: Tx) -> bytes:
            cancelled[:] = await self._store.revoke(tx, peer_id, match_id, self._clock())
            return b""

        await self._uow.run(body)
        for job in cancelled:  # the index is a hint: a missed removal finds the job finished
            await self._due.remove(job)
        log.info("consent.revoked", match_id=match_id, cancelled=len(cancelled))
        return len(cancelled)
