"""Validation names the field for every bad input and never echoes the value."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from alongside.kit.errors import InvalidArgument
from alongside.matcher.domain.model import (
    AgeBand,
    MatchRequest,
    Modality,
    Peer,
    PeerStatus,
    PeerType,
    Preferences,
    Strength,
    WeeklyWindow,
)
from alongside.matcher.domain.validation import validate_peer, validate_request
from tests.unit.matcher.test_model import BASE_PEER, BASE_REQUEST, participant, peer, pref, request

SECRET = "Jane-Example-555"
# Raw names, as a mapper would pass them before validation turns them into members.
UNKNOWN: Any = "MAYBE"
REQUIRED_NAME: Any = "REQUIRED"
GOOD = WeeklyWindow(0, 540, 600)


def peer_error(p: Peer, prefix: str = "") -> InvalidArgument:
    with pytest.raises(InvalidArgument) as err:
        validate_peer(p, prefix)
    return err.value


def request_error(r: MatchRequest) -> InvalidArgument:
    with pytest.raises(InvalidArgument) as err:
        validate_request(r)
    return err.value


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"participant": participant(age_band="TEEN")}, "participant.age_band"),
        ({"peer_types": frozenset({"COUNSELLOR"})}, "peer_types"),
        ({"urgency": "SOON"}, "urgency"),
        ({"preferences": Preferences(modalities=pref("CARRIER_PIGEON"))}, "preferences.modalities.values"),
        ({"preferences": Preferences(gender=replace(pref("woman"), strength=UNKNOWN))}, "preferences.gender.strength"),
        ({"participant": participant(time_zone="Mars/Olympus")}, "participant.time_zone"),
        ({"participant": participant(time_zone="../etc/passwd")}, "participant.time_zone"),
        ({"participant": participant(availability=())}, "participant.availability"),
        ({"participant": participant(availability=(GOOD, WeeklyWindow(0, 600, 600)))}, "participant.availability[1]"),
        (
            {"participant": participant(availability=(GOOD, GOOD, WeeklyWindow(2, 700, 650)))},
            "participant.availability[2]",
        ),
        ({"participant": participant(availability=(WeeklyWindow(7, 0, 60),))}, "participant.availability[0].day"),
        (
            {"participant": participant(availability=(WeeklyWindow(0, 0, 1441),))},
            "participant.availability[0].end_minute",
        ),
        ({"participant": participant(availability=(GOOD,) * 43)}, "participant.availability"),
        ({"acuity": 0}, "acuity"),
        ({"acuity": -2}, "acuity"),
        ({"session_minutes": 5}, "session_minutes"),
        ({"peer_types": frozenset()}, "peer_types"),
        ({"request_id": ""}, "request_id"),
        ({"request_id": "x" * 65}, "request_id"),
        ({"request_id": "has space"}, "request_id"),
        ({"participant": participant(participant_ref=SECRET + "!")}, "participant.participant_ref"),
        ({"previous_peer_id": "bad/id"}, "previous_peer_id"),
        ({"excluded_peer_ids": frozenset({"ok", "not ok"})}, "excluded_peer_ids"),
        ({"excluded_peer_ids": frozenset(f"p{i}" for i in range(501))}, "excluded_peer_ids"),
        (
            {"preferences": Preferences(languages=pref(*(f"l{i:02d}" for i in range(51))))},
            "preferences.languages.values",
        ),
        ({"preferences": Preferences(languages=pref("not a language"))}, "preferences.languages.values"),
        ({"preferences": Preferences(cultures=pref())}, "preferences.cultures.values"),
        ({"preferences": Preferences(cultures=pref(" "))}, "preferences.cultures.values"),
        ({"preferences": Preferences(certifications=pref("CPSS"))}, "preferences.certifications.strength"),
    ],
)
def test_bad_requests_name_the_field(changes: dict[str, Any], field: str) -> None:
    err = request_error(replace(BASE_REQUEST, **changes))
    assert err.field == field
    assert SECRET not in err.message


def test_in_person_only_needs_a_participant_service_area() -> None:
    prefs = Preferences(modalities=pref(Modality.IN_PERSON, required=True))
    assert request_error(request(prefs)).field == "participant.service_area"
    assert validate_request(request(prefs, participant=participant(service_area="North")))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"peer_id": ""}, "peer_id"),
        ({"peer_id": "a" * 65}, "peer_id"),
        ({"supervisor_id": "sup ervisor"}, "supervisor_id"),
        ({"types": frozenset()}, "types"),
        ({"types": frozenset({"WIZARD"})}, "types"),
        ({"status": "RETIRED"}, "status"),
        ({"modalities": frozenset({"FAX"})}, "modalities"),
        ({"age_groups": frozenset({"TODDLER"})}, "age_groups"),
        ({"time_zone": "Not/AZone"}, "time_zone"),
        ({"time_zone": ""}, "time_zone"),
        ({"availability": (GOOD, WeeklyWindow(3, 900, 800))}, "availability[1]"),
        ({"availability": (WeeklyWindow(-1, 0, 60),)}, "availability[0].day"),
        ({"availability": (GOOD,) * 43}, "availability"),
        ({"capacity": -1}, "capacity"),
        ({"capacity": 1001}, "capacity"),
        ({"languages": frozenset(f"l{i:02d}" for i in range(51))}, "languages"),
        ({"cultures": frozenset({"x" * 65})}, "cultures"),
        ({"lived_experience": frozenset({""})}, "lived_experience"),
    ],
)
def test_bad_peers_name_the_field(changes: dict[str, Any], field: str) -> None:
    err = peer_error(replace(BASE_PEER, **changes))
    assert err.field == field


def test_peer_fields_can_be_scoped() -> None:
    assert peer_error(peer(capacity=-1), "peers[3].").field == "peers[3].capacity"


def test_messages_never_echo_the_value() -> None:
    err = request_error(request(participant=participant(time_zone=SECRET)))
    assert SECRET not in str(err)
    err = peer_error(peer(peer_id=SECRET + " x"))
    assert SECRET not in str(err)


def test_peers_are_normalised() -> None:
    got = validate_peer(
        peer(
            languages=frozenset({"EN", "Es-MX"}),
            cultures=frozenset({"  Native  American "}),
            certifications=frozenset({"cpss"}),
            gender=" Woman ",
            service_area="North County",
            types=frozenset({"PEER_NAVIGATOR"}),
            status="ON_LEAVE",
        )
    )
    assert got.languages == {"en", "es-mx"}
    assert got.cultures == {"native_american"}
    assert got.certifications == {"CPSS"}
    assert (got.gender, got.service_area) == ("woman", "north_county")
    assert got.types == {PeerType.PEER_NAVIGATOR} and isinstance(next(iter(got.types)), PeerType)
    assert got.status is PeerStatus.ON_LEAVE


def test_requests_are_normalised() -> None:
    prefs = Preferences(languages=pref("SO"), modalities=replace(pref("VIDEO"), strength=REQUIRED_NAME))
    got = validate_request(request(prefs, participant=participant(age_band="YOUTH", service_area=" North ")))
    assert got.participant.age_band is AgeBand.YOUTH
    assert got.participant.service_area == "north"
    assert got.preferences.languages is not None and got.preferences.languages.values == {"so"}
    assert got.preferences.modalities is not None
    assert got.preferences.modalities.strength is Strength.REQUIRED
    assert got.preferences.modalities.values == {Modality.VIDEO}
