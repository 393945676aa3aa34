"""Setting and reading a peer's contact preferences."""

from __future__ import annotations

from alongside.kit.errors import FailedPrecondition
from alongside.kit.ids import check_id
from alongside.kit.uow import Idempotency, Tx, UnitOfWork
from alongside.notifier.adapters.store import NotificationStore
from alongside.notifier.domain.model import Channel, ContactPreferences, default_preferences
from alongside.notifier.domain.preferences import PreferencesDraft, validate_preferences


class Preferences:
    def __init__(
        self, uow: UnitOfWork, store: NotificationStore, *, allow_loopback_webhook: bool, webhook_enabled: bool
    ) -> None:
        self._uow, self._store = uow, store
        self._allow_loopback = allow_loopback_webhook
        self._webhook_enabled = webhook_enabled

    async def set(self, draft: PreferencesDraft, idempotency_key: str, request: bytes) -> ContactPreferences:
        """Validate everything first: a bad field stores nothing."""
        prefs = validate_preferences(draft, allow_loopback_webhook=self._allow_loopback)
        if Channel.WEBHOOK in prefs.channels and not self._webhook_enabled:
            raise FailedPrecondition("the webhook channel is not configured on this server")
        tag = self._store.keys.tag(prefs.peer_id)

        async def body(tx: Tx) -> bytes:
            self._store.queue_prefs(tx, prefs)
            return b""

        await self._uow.run(body, idempotency=Idempotency.of(tag, "SetContactPreferences", idempotency_key, request))
        return prefs

    async def get(self, peer_id: str) -> ContactPreferences:
        """What applies to the peer now: stored, or the defaults (inbox only)."""
        check_id("peer_id", peer_id)
        return await self._store.prefs(peer_id) or default_preferences(peer_id)
