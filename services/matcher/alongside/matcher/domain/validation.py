"""Validate and normalise peers and match requests before they are stored.

``validate_peer`` and ``validate_request`` return a normalised copy (tags
case-folded, enum names turned into members) or raise ``InvalidArgument``
naming the dotted field, e.g. ``participant.availability[2]`` or
``preferences.languages.values``.

Limits (see ``validation_rules``): ids by the kit's one rule (``alongside.kit.ids``);
at most 50 values per list, 42 availability windows and 500 excluded ids;
capacity 0-1000 and acuity 1-100 units; sessions of 15-480 minutes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace

from alongside.kit.errors import InvalidArgument
from alongside.matcher.domain import validation_rules as rules
from alongside.matcher.domain.model import (
    AgeBand,
    MatchRequest,
    Modality,
    Participant,
    Peer,
    PeerStatus,
    PeerType,
    Preference,
    Preferences,
    Strength,
    Urgency,
)
from alongside.matcher.domain.programme_policy import DEFAULT_POLICY, ProgrammePolicy

MAX_CAPACITY = 1000
MAX_ACUITY = 100
MIN_SESSION_MINUTES = 15
MAX_SESSION_MINUTES = 480

_Normaliser = Callable[[str, Iterable[object]], frozenset[str]]


def validate_peer(peer: Peer, prefix: str = "") -> Peer:
    """Check a roster entry; ``prefix`` (e.g. ``peers[3].``) scopes field names."""
    f = prefix
    rules.check_id(f"{f}peer_id", peer.peer_id)
    rules.check_id(f"{f}supervisor_id", peer.supervisor_id, optional=True)
    types = rules.enum_set(f"{f}types", peer.types, PeerType)
    if not types:
        raise InvalidArgument(f"{f}types", "must list at least one peer type")
    rules.check_time_zone(f"{f}time_zone", peer.time_zone)
    rules.check_windows(f"{f}availability", peer.availability, required=False)
    rules.check_int(f"{f}capacity", peer.capacity, 0, MAX_CAPACITY)
    return replace(
        peer,
        types=types,
        status=rules.check_enum(f"{f}status", peer.status, PeerStatus),
        certifications=rules.tag_set(f"{f}certifications", peer.certifications, upper=True),
        languages=rules.language_set(f"{f}languages", peer.languages),
        cultures=rules.tag_set(f"{f}cultures", peer.cultures),
        gender=rules.optional_tag(f"{f}gender", peer.gender),
        lived_experience=rules.tag_set(f"{f}lived_experience", peer.lived_experience),
        pathways=rules.tag_set(f"{f}pathways", peer.pathways),
        modalities=rules.enum_set(f"{f}modalities", peer.modalities, Modality),
        service_area=rules.optional_tag(f"{f}service_area", peer.service_area),
        age_groups=rules.enum_set(f"{f}age_groups", peer.age_groups, AgeBand),
    )


def validate_request(request: MatchRequest, policy: ProgrammePolicy = DEFAULT_POLICY) -> MatchRequest:
    """Check an intake under the programme's ``policy`` and return it normalised."""
    rules.check_id("request_id", request.request_id)
    types = rules.enum_set("peer_types", request.peer_types, PeerType)
    if not types:
        raise InvalidArgument("peer_types", "must list at least one peer type")
    rules.check_int("acuity", request.acuity, 1, MAX_ACUITY)
    rules.check_int("session_minutes", request.session_minutes, MIN_SESSION_MINUTES, MAX_SESSION_MINUTES)
    rules.check_id("previous_peer_id", request.previous_peer_id, optional=True)
    rules.check_count("excluded_peer_ids", len(request.excluded_peer_ids), rules.MAX_EXCLUDED)
    for peer_id in request.excluded_peer_ids:
        rules.check_id("excluded_peer_ids", peer_id)
    participant = _participant(request.participant)
    preferences = _preferences(request.preferences, policy)
    _check_in_person(participant, preferences)
    return replace(
        request,
        participant=participant,
        peer_types=types,
        preferences=preferences,
        urgency=rules.check_enum("urgency", request.urgency, Urgency),
    )


def _participant(p: Participant) -> Participant:
    rules.check_id("participant.participant_ref", p.participant_ref)
    rules.check_time_zone("participant.time_zone", p.time_zone)
    rules.check_windows("participant.availability", p.availability, required=True)
    return replace(
        p,
        age_band=rules.check_enum("participant.age_band", p.age_band, AgeBand),
        service_area=rules.optional_tag("participant.service_area", p.service_area),
        interpreter_needed=bool(p.interpreter_needed),
    )


def _preferences(prefs: Preferences, policy: ProgrammePolicy) -> Preferences:
    certifications = _preference("certifications", prefs.certifications, _upper_tags)
    if certifications is not None and not policy.allows(certifications.strength):
        allowed = " or ".join(s.value for s in Strength if policy.allows(s))
        raise InvalidArgument("preferences.certifications.strength", f"must be {allowed} for a certification")
    return Preferences(
        languages=_preference("languages", prefs.languages, rules.language_set),
        gender=_preference("gender", prefs.gender, rules.tag_set),
        cultures=_preference("cultures", prefs.cultures, rules.tag_set),
        lived_experience=_preference("lived_experience", prefs.lived_experience, rules.tag_set),
        pathways=_preference("pathways", prefs.pathways, rules.tag_set),
        modalities=_preference("modalities", prefs.modalities, _modalities),
        service_area=_preference("service_area", prefs.service_area, rules.tag_set),
        certifications=certifications,
    )


def _preference(name: str, pref: Preference | None, normalise: _Normaliser) -> Preference | None:
    if pref is None:
        return None
    field = f"preferences.{name}"
    strength = rules.check_enum(f"{field}.strength", pref.strength, Strength)
    if not pref.values:
        raise InvalidArgument(f"{field}.values", "must list at least one value")
    return Preference(normalise(f"{field}.values", pref.values), strength)


def _upper_tags(field: str, values: Iterable[object]) -> frozenset[str]:
    return rules.tag_set(field, values, upper=True)


def _modalities(field: str, values: Iterable[object]) -> frozenset[str]:
    return rules.enum_set(field, values, Modality)


def _check_in_person(participant: Participant, prefs: Preferences) -> None:
    """In person needs the participant's service area to find a peer nearby."""
    only = prefs.modalities
    in_person_only = only is not None and only.required and only.values == {Modality.IN_PERSON}
    if in_person_only and not participant.service_area:
        raise InvalidArgument("participant.service_area", "is needed when in person is the only modality")
