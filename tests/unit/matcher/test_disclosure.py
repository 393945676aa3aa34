"""The 42 CFR Part 2 disclosure rules, one tiny case each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.kit.errors import InvalidArgument
from alongside.matcher.domain.disclosure import (
    EXPIRED,
    NOT_GIVEN,
    NOT_RECIPIENT,
    REVOKED,
    ConsentFacts,
    decide,
    is_expired,
    peer_is_recipient,
    unknown_recipients,
)
from alongside.matcher.service.consent import check_consent
from alongside.matcher.service.disclosure import consent_facts, participant_view

NOW = datetime(2027, 3, 3, 15, 0, tzinfo=UTC)
ACTIVE = ConsentFacts(True, ("assigned-peer",), NOW + timedelta(days=1))


def test_active_consent_discloses() -> None:
    assert decide(ACTIVE, NOW).disclosed


def test_no_consent_discloses_nothing() -> None:
    assert decide(ConsentFacts(False), NOW).reason == NOT_GIVEN


def test_revoked_wins_over_expired() -> None:
    facts = ConsentFacts(True, ("programme",), NOW - timedelta(days=1), revoked_at=NOW - timedelta(days=2))
    assert decide(facts, NOW).reason == REVOKED


def test_expiry_is_inclusive() -> None:
    assert is_expired(NOW, NOW) and not is_expired(NOW + timedelta(seconds=1), NOW)
    assert not is_expired(None, NOW)
    assert decide(ConsentFacts(True, ("programme",), NOW), NOW).reason == EXPIRED


def test_recipient_must_cover_the_peer() -> None:
    assert peer_is_recipient(["programme"]) and not peer_is_recipient([])
    assert decide(ConsentFacts(True, ()), NOW).reason == NOT_RECIPIENT


def test_unknown_recipients_are_indexed() -> None:
    assert unknown_recipients(["assigned-peer", "anyone", "programme", "Programme"]) == [1, 3]


def test_check_consent_names_the_bad_recipient() -> None:
    with pytest.raises(InvalidArgument) as caught:
        check_consent(pb.Consent(scope="s", recipients=["programme", "x"]), NOW)
    assert caught.value.field == "consent.recipients[1]"


def test_stored_consent_maps_to_facts() -> None:
    given = pb.Consent(scope="s", recipients=["programme"])
    given.expires_at.FromDatetime(NOW)
    facts = consent_facts(given, revoked_ms=int(NOW.timestamp() * 1000))
    assert facts == ConsentFacts(True, ("programme",), NOW, NOW)
    assert consent_facts(pb.Consent(), None) == ConsentFacts(False)


def test_participant_view_leaves_out_sensitive_fields() -> None:
    submitted = pb.SubmitMatchRequestRequest(
        participant=pb.Participant(participant_ref="r1", service_area="north", time_zone="UTC"),
        preferences=pb.Preferences(languages=pb.Preference(values=["so"]), pathways=pb.Preference(values=["mat"])),
    )
    view = participant_view(submitted)
    assert (view.participant_ref, list(view.languages), view.session_minutes) == ("r1", ["so"], 60)
    assert "mat" not in str(view) and "north" not in str(view)
