"""The matcher's domain model: peers, participants and match requests.

Plain frozen dataclasses. Checking and normalising happen in ``validation``;
matching happens in ``constraints`` and ``scoring``. Field names follow
``alongside.matcher.v1`` so an ``InvalidArgument`` field path maps straight
onto the request the caller sent.

Set-valued attributes are ``frozenset`` of normalised tags: lowercase for
languages (BCP-47, e.g. ``"so"``, ``"ase"`` for ASL), cultures, gender,
lived-experience areas, pathways and service areas; uppercase for
certifications (``"CPSS"``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class PeerType(StrEnum):
    RECOVERY_COACH = "RECOVERY_COACH"
    PEER_SPECIALIST = "PEER_SPECIALIST"
    PEER_NAVIGATOR = "PEER_NAVIGATOR"
    YOUTH_PEER = "YOUTH_PEER"
    FAMILY_PEER = "FAMILY_PEER"


class PeerStatus(StrEnum):
    ACTIVE = "ACTIVE"
    ON_LEAVE = "ON_LEAVE"
    INACTIVE = "INACTIVE"


class Modality(StrEnum):
    IN_PERSON = "IN_PERSON"
    PHONE = "PHONE"
    VIDEO = "VIDEO"
    TEXT = "TEXT"


class AgeBand(StrEnum):
    """CHILD under 12, YOUTH 12-17, YOUNG_ADULT 18-25, ADULT 26-64, OLDER_ADULT 65+."""

    CHILD = "CHILD"
    YOUTH = "YOUTH"
    YOUNG_ADULT = "YOUNG_ADULT"
    ADULT = "ADULT"
    OLDER_ADULT = "OLDER_ADULT"


class Strength(StrEnum):
    """REQUIRED makes a preference a hard constraint; PREFERRED makes it a weight."""

    REQUIRED = "REQUIRED"
    PREFERRED = "PREFERRED"


class Urgency(StrEnum):
    ROUTINE = "ROUTINE"
    PRIORITY = "PRIORITY"
    URGENT = "URGENT"


@dataclass(frozen=True, slots=True)
class WeeklyWindow:
    """A recurring stretch of local wall-clock time on one day.

    ``day`` is 0 for Monday to 6 for Sunday (the proto's ISO day minus one);
    minutes count from local midnight, ``end_minute`` is exclusive and may be
    1440 (midnight at the end of the day).
    """

    day: int
    start_minute: int
    end_minute: int


@dataclass(frozen=True)
class Peer:
    """A peer worker on the roster. ``capacity`` is in acuity units."""

    peer_id: str
    types: frozenset[PeerType]
    certifications: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    cultures: frozenset[str] = frozenset()
    gender: str = ""
    lived_experience: frozenset[str] = frozenset()
    pathways: frozenset[str] = frozenset()
    modalities: frozenset[Modality] = frozenset()
    service_area: str = ""
    age_groups: frozenset[AgeBand] = frozenset()
    time_zone: str = "UTC"
    availability: tuple[WeeklyWindow, ...] = ()
    capacity: int = 0
    status: PeerStatus = PeerStatus.ACTIVE
    supervisor_id: str = ""
    # Shown to staff only; never used in matching or in any explanation.
    display_name: str = ""


@dataclass(frozen=True)
class Preference:
    """A stated preference: any of ``values``, as a constraint or a weight."""

    values: frozenset[str]
    strength: Strength = Strength.PREFERRED

    @property
    def required(self) -> bool:
        return self.strength == Strength.REQUIRED

    @property
    def preferred(self) -> bool:
        return self.strength == Strength.PREFERRED


@dataclass(frozen=True)
class Preferences:
    """The participant's preferences; ``None`` means no preference stated.

    ``modalities`` values are ``Modality`` members. ``certifications`` may
    only be REQUIRED unless the programme's policy lets it be PREFERRED.
    """

    languages: Preference | None = None
    gender: Preference | None = None
    cultures: Preference | None = None
    lived_experience: Preference | None = None
    pathways: Preference | None = None
    modalities: Preference | None = None
    service_area: Preference | None = None
    certifications: Preference | None = None


@dataclass(frozen=True)
class Participant:
    """The person seeking a peer, known only by a pseudonymous reference.

    ``service_area`` is where they can meet in person; in-person counts as a
    compatible modality only with a peer of the same service area.
    """

    participant_ref: str
    age_band: AgeBand
    time_zone: str
    availability: tuple[WeeklyWindow, ...]
    interpreter_needed: bool = False
    service_area: str = ""


@dataclass(frozen=True)
class MatchRequest:
    """An intake: who needs a peer, of which types, with which preferences.

    ``acuity`` is the caseload units this participant uses; declined peers are
    passed to the engine separately because they grow after submission.
    """

    request_id: str
    participant: Participant
    peer_types: frozenset[PeerType]
    preferences: Preferences = Preferences()
    urgency: Urgency = Urgency.ROUTINE
    acuity: int = 1
    previous_peer_id: str = ""
    excluded_peer_ids: frozenset[str] = frozenset()
    session_minutes: int = 60
