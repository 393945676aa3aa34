"""The matcher's model, and the tiny builders the other matcher tests share.

Every builder starts from one valid adult recovery-coach match in UTC
(Monday 09:00-17:00 on both sides) and changes only what a test names.
"""

from __future__ import annotations

from dataclasses import FrozenInstanceError, replace
from datetime import UTC, datetime
from typing import Any

import pytest

from alongside.matcher.domain.constraints import Check
from alongside.matcher.domain.model import (
    AgeBand,
    MatchRequest,
    Modality,
    Participant,
    Peer,
    PeerType,
    Preference,
    Preferences,
    Strength,
    WeeklyWindow,
)
from alongside.matcher.domain.query import compile_query
from alongside.matcher.domain.roster_index import RosterIndex
from alongside.matcher.domain.validation import validate_peer, validate_request

# A Wednesday in January: no clock changes anywhere near.
NOW = datetime(2026, 1, 14, 12, 0, tzinfo=UTC)
MONDAY_9_TO_5 = (WeeklyWindow(0, 9 * 60, 17 * 60),)

BASE_PEER = Peer(
    peer_id="p1",
    types=frozenset({PeerType.RECOVERY_COACH}),
    languages=frozenset({"en"}),
    modalities=frozenset({Modality.PHONE}),
    age_groups=frozenset({AgeBand.ADULT}),
    time_zone="UTC",
    availability=MONDAY_9_TO_5,
    capacity=5,
)
BASE_PARTICIPANT = Participant("pt-1", AgeBand.ADULT, "UTC", MONDAY_9_TO_5)
BASE_REQUEST = MatchRequest("r-1", BASE_PARTICIPANT, frozenset({PeerType.RECOVERY_COACH}))


def peer(peer_id: str = "p1", **changes: Any) -> Peer:
    return replace(BASE_PEER, peer_id=peer_id, **changes)


def participant(**changes: Any) -> Participant:
    return replace(BASE_PARTICIPANT, **changes)


def request(preferences: Preferences | None = None, **changes: Any) -> MatchRequest:
    return replace(BASE_REQUEST, preferences=preferences or Preferences(), **changes)


def pref(*values: str, required: bool = False) -> Preference:
    return Preference(frozenset(values), Strength.REQUIRED if required else Strength.PREFERRED)


def passing(check: Check, peers: list[Peer], req: MatchRequest, **query: Any) -> list[str] | None:
    """Ids of the peers ``check`` lets through, or None when it does not apply."""
    index = RosterIndex(peers)
    mask = check(index, compile_query(index, req, now=NOW, **query))
    if mask is None:
        return None
    return [pid for pid, ok in zip(index.peer_ids, mask.tolist(), strict=True) if ok]


def test_builders_make_valid_objects() -> None:
    assert validate_peer(BASE_PEER) == BASE_PEER
    assert validate_request(BASE_REQUEST) == BASE_REQUEST


def test_preference_strength() -> None:
    assert pref("so", required=True).required
    assert pref("so").preferred and not pref("so").required


def test_model_is_frozen() -> None:
    with pytest.raises(FrozenInstanceError):
        BASE_PEER.capacity = 9  # type: ignore[misc]
