"""Whether a peer may see a participant's details (42 CFR Part 2).

Pure rules over plain values: the service reads the stored consent and the
revocation mark and asks here. Without active consent a peer learns only
that an assignment exists.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

ASSIGNED_PEER = "assigned-peer"
PROGRAMME = "programme"
RECIPIENTS = frozenset({ASSIGNED_PEER, PROGRAMME})

# 42 CFR 2.32(a)(2): the short form of the notice that must accompany a disclosure.
NOTICE = "42 CFR part 2 prohibits unauthorized use or disclosure of these records."

NOT_GIVEN = "consent not given"
EXPIRED = "consent expired"
REVOKED = "consent revoked"
NOT_RECIPIENT = "consent does not name the assigned peer or the programme as recipient"


@dataclass(frozen=True, slots=True)
class ConsentFacts:
    """What is stored about one participant's consent."""

    given: bool
    recipients: tuple[str, ...] = ()
    expires_at: datetime | None = None  # None: lasts until revoked
    revoked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    disclosed: bool
    reason: str = ""  # plain words, empty when disclosed


def unknown_recipients(recipients: Iterable[str]) -> list[int]:
    """Indexes of recipients that are not a known value, for INVALID_ARGUMENT."""
    return [i for i, r in enumerate(recipients) if r not in RECIPIENTS]


def peer_is_recipient(recipients: Iterable[str]) -> bool:
    """The assigned peer is covered by naming them or their programme."""
    return any(r in RECIPIENTS for r in recipients)


def is_expired(expires_at: datetime | None, now: datetime) -> bool:
    """Expiry is an instant: at or after it, the consent no longer holds."""
    return expires_at is not None and now >= expires_at


def decide(facts: ConsentFacts, now: datetime) -> Decision:
    """Disclose only under a given, unrevoked, unexpired consent naming the peer.

    Revocation is reported before expiry: it is the participant's act.
    """
    if not facts.given:
        return Decision(False, NOT_GIVEN)
    if facts.revoked_at is not None:
        return Decision(False, REVOKED)
    if is_expired(facts.expires_at, now):
        return Decision(False, EXPIRED)
    if not peer_is_recipient(facts.recipients):
        return Decision(False, NOT_RECIPIENT)
    return Decision(True)
