"""What every matcher use case needs: store, unit of work, roster cache, clock, policy."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from google.protobuf.message import Message

from alongside.kit.events.envelope import Event
from alongside.kit.logging import current_correlation_id
from alongside.kit.uow import Idempotency, Tx, UnitOfWork
from alongside.matcher.adapters.roster_cache import RosterCache
from alongside.matcher.adapters.store import TAG, MatcherStore
from alongside.matcher.domain.programme_policy import DEFAULT_POLICY, ProgrammePolicy
from alongside.matcher.domain.weights import Weights
from alongside.matcher.settings import MatcherSettings

SOURCE = "/alongside/matcher"
M = TypeVar("M", bound=Message)


@dataclass
class Context:
    store: MatcherStore
    uow: UnitOfWork
    cache: RosterCache
    settings: MatcherSettings
    clock: Callable[[], datetime]
    weights: Weights = field(default_factory=Weights)
    # The programme's policy (age rules, certification strengths, batch weights).
    policy: ProgrammePolicy = DEFAULT_POLICY

    @property
    def horizon(self) -> timedelta:
        """How long a pair's weekly overlap must hold, clock changes included (docs/matcher.md)."""
        return timedelta(weeks=self.settings.engagement_horizon_weeks)


def emit(tx: Tx, event_type: str, body: Message, subject: str) -> None:
    """Queue an event (ids and facts only) in the transaction's outbox."""
    tx.emit(TAG, Event.of(event_type, SOURCE, body, subject=subject, correlation_id=current_correlation_id() or ""))


def idem(scope: str, key: str, request: Message) -> Idempotency:
    """The idempotency record of a mutating RPC, bound to its exact request."""
    return Idempotency.of(TAG, scope, key, request.SerializeToString(deterministic=True))


def parse_reply(kind: type[M], raw: bytes) -> M:
    message = kind()
    message.ParseFromString(raw)
    return message
