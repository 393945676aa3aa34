"""Consent revocation on the notifier's side: the delivery rule and the event."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from alongside.api.matcher.v1 import events_pb2 as ev
from alongside.kit.events.consumer import Permanent
from alongside.kit.events.envelope import Event
from alongside.notifier.domain.delivery import CONSENT_REVOKED, DeliveryState, Status, revoked
from alongside.notifier.entrypoints.events import Revocation, to_revocation

NOW = datetime(2031, 1, 15, 5, 30, tzinfo=UTC)


def test_pending_delivery_is_cancelled() -> None:
    state = DeliveryState(Status.DEFERRED, NOW, attempts=1, reason="quiet_hours")
    assert revoked(state, NOW) == DeliveryState(Status.CANCELLED, NOW, attempts=1, reason=CONSENT_REVOKED)


def test_finished_delivery_is_left_alone() -> None:
    sent = DeliveryState(Status.SENT, NOW, attempts=1)
    assert revoked(sent, NOW) is sent


def _event(body: ev.ConsentRevoked) -> Event:
    return Event.of("match.consent_revoked", "/alongside/matcher", body, subject="x")


def test_revocation_event_names_peer_and_match() -> None:
    body = ev.ConsentRevoked(request_id="req-1", match_id="m-1", peer_id="p-1")
    assert to_revocation(_event(body)) == Revocation("p-1", "m-1")


def test_revocation_without_a_match_needs_nothing() -> None:
    assert to_revocation(_event(ev.ConsentRevoked(request_id="req-1"))) is None


def test_revocation_with_half_the_ids_is_dead_lettered() -> None:
    with pytest.raises(Permanent):
        to_revocation(_event(ev.ConsentRevoked(request_id="req-1", match_id="m-1")))


def test_other_events_are_not_revocations() -> None:
    body = ev.MatchClosed(match_id="m-1", peer_id="p-1")
    assert to_revocation(Event.of("match.closed", "/alongside/matcher", body, subject="m-1")) is None
