"""What every scheduler use case needs: store, atomic writers, policy and clock."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from google.protobuf.message import Message

from alongside.kit.errors import FailedPrecondition, InvalidArgument, NotFound
from alongside.kit.events.outbox import Outbox
from alongside.kit.uow import UnitOfWork
from alongside.scheduler.adapters.codec import PeerCalendar
from alongside.scheduler.adapters.commit import Committer
from alongside.scheduler.adapters.keys import peer_tag
from alongside.scheduler.adapters.store import SchedulerStore
from alongside.scheduler.domain.model import Policy
from alongside.scheduler.service.taken import Taken
from alongside.scheduler.settings import SchedulerSettings

M = TypeVar("M", bound=Message)
MAX_ATTEMPTS = 8  # lost races (a record changed under us) before ABORTED


@dataclass
class Context:
    store: SchedulerStore
    committer: Committer
    uow: UnitOfWork
    outbox: Outbox
    settings: SchedulerSettings
    policy: Policy
    clock: Callable[[], datetime]
    # Peer calendars as last read. Safe to serve from memory: every booking's
    # commit checks the stored version and status, and refuses a stale copy.
    calendars: dict[str, PeerCalendar] = field(default_factory=dict)
    # Spans this process saw booked: only picks a cheaper route (see taken.py).
    taken: Taken = field(default_factory=Taken)

    async def calendar(self, peer_id: str, *, fresh: bool = False) -> PeerCalendar | None:
        cached = None if fresh else self.calendars.get(peer_id)
        if cached is not None:
            return cached
        found = await self.store.calendar(peer_id)
        if found is not None and found.known:
            self.calendars[peer_id] = found
        return found


@dataclass(frozen=True)
class Idem:
    """An idempotency key bound to its peer's tag and the exact request."""

    tag: str
    scope: str
    key: str
    fingerprint: bytes

    @classmethod
    def of(cls, peer_id: str, scope: str, key: str, request: Message) -> Idem:
        if not key or len(key) > 128:
            raise InvalidArgument("idempotency_key", "is required, at most 128 characters")
        digest = hashlib.sha256(request.SerializeToString(deterministic=True)).digest()
        return cls(peer_tag(peer_id), scope, key, digest)

    def redis_key(self, ctx: Context) -> str:
        return ctx.store.k.idem(self.tag, self.scope, self.key)


def replayed(kind: type[M], idem: Idem, stored: tuple[bytes, bytes]) -> M:
    """The first answer to a replayed request; a reused key with new content is refused."""
    fingerprint, response = stored
    if fingerprint != idem.fingerprint:
        raise InvalidArgument("idempotency_key", "was already used for a different request")
    return parse(kind, response)


def parse(kind: type[M], raw: bytes) -> M:
    message = kind()
    message.ParseFromString(raw)
    return message


def require_calendar(calendar: PeerCalendar | None) -> PeerCalendar:
    """A bookable peer: availability known from the roster, and active."""
    if calendar is None or not calendar.known:
        raise NotFound("peer calendar not found: no availability received from the roster yet")
    if not calendar.active:
        raise FailedPrecondition("the peer is not active")
    return calendar
