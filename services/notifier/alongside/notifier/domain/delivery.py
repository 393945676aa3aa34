"""The state of one notification on one channel, and how it moves.

PENDING (due now, or waiting for a retry) and DEFERRED (held by quiet hours)
end in SENT, FAILED, or CANCELLED when the peer switched the channel off
meanwhile or the participant revoked consent. SENT is the idempotency record: a job that finds it never sends
again. Reasons are codes, never data.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum


class Status(StrEnum):
    PENDING = "pending"
    DEFERRED = "deferred"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


# Reason codes for a deferral or a failure (see also retry.after_failure).
QUIET_HOURS = "quiet_hours"
CHANNEL_DISABLED = "channel_disabled"
NOT_CONFIGURED = "channel_not_configured"
CONSENT_REVOKED = "consent_revoked"


@dataclass(frozen=True, slots=True)
class DeliveryState:
    status: Status
    updated: datetime
    attempts: int = 0
    reason: str = ""

    @property
    def finished(self) -> bool:
        return self.status in (Status.SENT, Status.FAILED, Status.CANCELLED)


def scheduled(now: datetime, send_at: datetime) -> DeliveryState:
    """A new job: PENDING if it may go now, DEFERRED if quiet hours hold it."""
    if send_at > now:
        return DeliveryState(Status.DEFERRED, now, reason=QUIET_HOURS)
    return DeliveryState(Status.PENDING, now)


def delivered(state: DeliveryState, now: datetime) -> DeliveryState:
    """The attempt in hand succeeded."""
    return DeliveryState(Status.SENT, now, attempts=state.attempts + 1)


def will_retry(state: DeliveryState, reason: str, now: datetime) -> DeliveryState:
    """The attempt in hand failed and another one is scheduled."""
    return DeliveryState(Status.PENDING, now, attempts=state.attempts + 1, reason=reason)


def gave_up(state: DeliveryState, reason: str, now: datetime) -> DeliveryState:
    """The attempt in hand failed and it was the last one (or unfixable)."""
    return DeliveryState(Status.FAILED, now, attempts=state.attempts + 1, reason=reason)


def withdrawn(state: DeliveryState, now: datetime) -> DeliveryState:
    """The peer no longer takes this kind on this channel: not sent, not a failure."""
    return replace(state, status=Status.CANCELLED, updated=now, reason=CHANNEL_DISABLED)


def held(state: DeliveryState, now: datetime) -> DeliveryState:
    """Quiet hours began again before the job ran: it waits, no attempt used."""
    return replace(state, status=Status.DEFERRED, updated=now, reason=QUIET_HOURS)


def revoked(state: DeliveryState, now: datetime) -> DeliveryState:
    """The participant revoked consent: a pending message is not sent. A
    finished one is left as it was."""
    if state.finished:
        return state
    return replace(state, status=Status.CANCELLED, updated=now, reason=CONSENT_REVOKED)
