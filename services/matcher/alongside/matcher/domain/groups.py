"""Community groups: the directory managers keep, and its checks.

A group is a mutual-aid or community group a programme refers participants
to. It carries no participant data: its name is the group's public name.
``pathway`` is one of a controlled vocabulary (``GroupPathway``), so an
offer can honour a stated pathway and spread over different ones.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from alongside.kit.errors import InvalidArgument
from alongside.matcher.domain import validation_rules as rules
from alongside.matcher.domain.model import AgeBand, Modality, WeeklyWindow

MAX_NAME = 200
MAX_ACCESSIBILITY = 500
MAX_MEETINGS = 21


class GroupPathway(StrEnum):
    TWELVE_STEP = "TWELVE_STEP"
    SMART_RECOVERY = "SMART_RECOVERY"
    REFUGE_RECOVERY = "REFUGE_RECOVERY"
    RECOVERY_DHARMA = "RECOVERY_DHARMA"
    MEDICATION_ASSISTED = "MEDICATION_ASSISTED"
    FAMILY = "FAMILY"
    RECOVERY_COMMUNITY_ORG = "RECOVERY_COMMUNITY_ORG"
    PEER_LED = "PEER_LED"
    OTHER = "OTHER"


class GroupAudience(StrEnum):
    ADULTS = "ADULTS"
    YOUNG_PEOPLE = "YOUNG_PEOPLE"
    OLDER_ADULTS = "OLDER_ADULTS"
    FAMILIES = "FAMILIES"
    WOMEN = "WOMEN"
    MEN = "MEN"
    LGBTQ = "LGBTQ"
    VETERANS = "VETERANS"


# Ways a group meets: text chat is no meeting.
GROUP_MODALITIES = frozenset({Modality.IN_PERSON, Modality.VIDEO, Modality.PHONE})

# The age bands each age audience serves; a group naming none is for adults.
AGE_AUDIENCES: dict[GroupAudience, frozenset[AgeBand]] = {
    GroupAudience.ADULTS: frozenset({AgeBand.YOUNG_ADULT, AgeBand.ADULT, AgeBand.OLDER_ADULT}),
    GroupAudience.YOUNG_PEOPLE: frozenset({AgeBand.YOUTH, AgeBand.YOUNG_ADULT}),
    GroupAudience.OLDER_ADULTS: frozenset({AgeBand.OLDER_ADULT}),
    GroupAudience.FAMILIES: frozenset(AgeBand),
}


@dataclass(frozen=True)
class CommunityGroup:
    group_id: str
    name: str
    pathway: GroupPathway
    time_zone: str
    meetings: tuple[WeeklyWindow, ...]
    languages: frozenset[str] = frozenset()
    modalities: frozenset[Modality] = frozenset()
    area: str = ""
    accessibility: str = ""
    audiences: frozenset[GroupAudience] = frozenset()
    retired: bool = False

    def serves(self, age: AgeBand) -> bool:
        """Whether a participant of ``age`` may be offered this group."""
        ages = [AGE_AUDIENCES[a] for a in self.audiences if a in AGE_AUDIENCES]
        return any(age in band for band in ages or [AGE_AUDIENCES[GroupAudience.ADULTS]])


def validate_group(group: CommunityGroup, prefix: str = "") -> CommunityGroup:
    """Check a directory entry and return it normalised; ``prefix`` (``group.``) scopes field names."""
    f = prefix
    rules.check_id(f"{f}group_id", group.group_id)
    name = " ".join(group.name.split())
    if not name or len(name) > MAX_NAME or not name.isprintable():
        raise InvalidArgument(f"{f}name", f"must be 1-{MAX_NAME} printable characters")
    rules.check_enum(f"{f}pathway", group.pathway, GroupPathway)
    rules.check_time_zone(f"{f}time_zone", group.time_zone)
    if len(group.meetings) > MAX_MEETINGS:
        raise InvalidArgument(f"{f}meetings", f"must list at most {MAX_MEETINGS} meetings")
    rules.check_windows(f"{f}meetings", group.meetings, required=True)
    modalities = rules.enum_set(f"{f}modalities", group.modalities, Modality)
    if not modalities or not modalities <= GROUP_MODALITIES:
        raise InvalidArgument(f"{f}modalities", "must list in person, video or phone (at least one)")
    area = rules.optional_tag(f"{f}area", group.area)
    if Modality.IN_PERSON in modalities and not area:
        raise InvalidArgument(f"{f}area", "is needed for a group that meets in person")
    accessibility = " ".join(group.accessibility.split())
    if len(accessibility) > MAX_ACCESSIBILITY or not accessibility.isprintable():
        raise InvalidArgument(f"{f}accessibility", f"must be at most {MAX_ACCESSIBILITY} printable characters")
    languages = rules.language_set(f"{f}languages", group.languages)
    if not languages:
        raise InvalidArgument(f"{f}languages", "must list at least one language")
    return replace(
        group,
        name=name,
        languages=languages,
        modalities=modalities,
        area=area,
        accessibility=accessibility,
        audiences=rules.enum_set(f"{f}audiences", group.audiences, GroupAudience),
        meetings=tuple(sorted(group.meetings, key=lambda w: (w.day, w.start_minute))),
        retired=bool(group.retired),
    )
