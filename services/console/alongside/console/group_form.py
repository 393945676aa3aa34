"""The community-group form and the directory's words: a ``CommunityGroup`` <->
the form's values, its meetings as text, and a meeting placed in another zone.

The matcher validates a group (its INVALID_ARGUMENT names the field,
``group.<field>``); the console only reads the meetings' text, whose shape
is the CSV's (``tue 19:00-20:30; sat 10:00-11:00``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from alongside.api.common.v1 import types_pb2
from alongside.api.matcher.v1 import matcher_pb2 as mpb

# Labels in English, in the order the form shows them (the error summary follows it); templates translate them.
LABELS = {
    "group_id": "Group id",
    "name": "Name",
    "pathway": "Pathway or approach",
    "languages": "Languages",
    "modalities": "Ways to meet",
    "area": "County or area",
    "time_zone": "Time zone",
    "meetings": "Weekly meetings",
    "accessibility": "Accessibility",
    "audiences": "Whom it is for",
    "form": "The form",
}
PATHWAYS = {
    "TWELVE_STEP": "Twelve-step fellowship",
    "SMART_RECOVERY": "SMART Recovery",
    "REFUGE_RECOVERY": "Refuge Recovery",
    "RECOVERY_DHARMA": "Recovery Dharma",
    "MEDICATION_ASSISTED": "Medication-assisted recovery",
    "FAMILY": "Families and friends",
    "RECOVERY_COMMUNITY_ORG": "Recovery community organisation",
    "PEER_LED": "Peer-led",
    "OTHER": "Other",
}
AUDIENCES = {
    "ADULTS": "Adults (18 and over)",
    "YOUNG_PEOPLE": "Young people (12-25)",
    "OLDER_ADULTS": "Older adults (65 and over)",
    "FAMILIES": "Families and friends, any age",
    "WOMEN": "Women",
    "MEN": "Men",
    "LGBTQ": "LGBTQ+ people",
    "VETERANS": "Veterans",
}
MODALITIES = {"IN_PERSON": "In person", "VIDEO": "Video", "PHONE": "Phone"}
MEETINGS_SHAPE = "must look like 'tue 19:00-20:30; sat 10:00-11:00'"
TAKEN = "is taken by another group already"
CHOOSE = "must be chosen"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_MEETING = re.compile(r"^([a-z]{3})[a-z]*\s+(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")
TEXTS = ("name", "languages", "area", "time_zone", "meetings", "accessibility")


def pathway_name(number: int) -> str:
    return mpb.GroupPathway.Name(number).removeprefix("GROUP_PATHWAY_") if number in mpb.GroupPathway.values() else ""


def audience_names(numbers: Any) -> list[str]:
    known = set(mpb.GroupAudience.values())
    return [mpb.GroupAudience.Name(n).removeprefix("GROUP_AUDIENCE_") for n in numbers if n in known]


def modality_names(numbers: Any) -> list[str]:
    known = set(mpb.Modality.values())
    return [mpb.Modality.Name(n).removeprefix("MODALITY_") for n in numbers if n in known]


def clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def meeting_text(w: types_pb2.WeeklyWindow) -> str:
    day = DAYS[w.day - 1] if 1 <= w.day <= 7 else "?"
    return f"{day} {clock(w.start_minute)}-{clock(w.end_minute)}"


def parse_meetings(text: str) -> list[types_pb2.WeeklyWindow] | None:
    """``tue 19:00-20:30; sat 10:00-11:00`` -> windows; None when a part has another shape.
    The ranges (minutes, start before end) are the matcher's to check."""
    out = []
    for part in text.split(";"):
        part = " ".join(part.lower().split())
        if not part:
            continue
        found = _MEETING.match(part)
        if not found or found.group(1) not in DAYS:
            return None
        day, h1, m1, h2, m2 = found.groups()
        out.append(types_pb2.WeeklyWindow(day=DAYS.index(day) + 1, start_minute=int(h1) * 60 + int(m1),  # type: ignore[arg-type]
                                          end_minute=int(h2) * 60 + int(m2)))
    return out


def values_of(group: mpb.CommunityGroup) -> dict[str, Any]:
    """The form's values for a stored group."""
    return {
        "group_id": group.group_id,
        "name": group.name,
        "pathway": pathway_name(group.pathway),
        "languages": ", ".join(group.languages),
        "modalities": modality_names(group.modalities),
        "area": group.area,
        "time_zone": group.time_zone,
        "meetings": "; ".join(meeting_text(w) for w in group.meetings),
        "accessibility": group.accessibility,
        "audiences": audience_names(group.audiences),
    }


def apply(group: mpb.CommunityGroup, form: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """Every field of the form laid over ``group`` (all but its id, ``retired`` and the version);
    the values to show the page again with, and the console's own errors (the meetings' shape)."""
    values: dict[str, Any] = {name: str(form.get(name, "")) for name in TEXTS}
    values |= {"group_id": group.group_id, "pathway": str(form.get("pathway", "")),
               "modalities": [str(v) for v in form.getlist("modalities")],
               "audiences": [str(v) for v in form.getlist("audiences")]}
    group.name = values["name"].strip()
    group.area = values["area"].strip()
    group.time_zone = values["time_zone"].strip()
    group.accessibility = values["accessibility"].strip()
    del group.languages[:]
    group.languages.extend(v.strip() for v in values["languages"].split(",") if v.strip())
    known = values["pathway"] in PATHWAYS
    group.pathway = mpb.GroupPathway.Value("GROUP_PATHWAY_" + values["pathway"]) if known else 0  # type: ignore[assignment]
    del group.modalities[:]
    group.modalities.extend(mpb.Modality.Value("MODALITY_" + v) for v in values["modalities"] if v in MODALITIES)  # type: ignore[misc]
    del group.audiences[:]
    group.audiences.extend(
        mpb.GroupAudience.Value("GROUP_AUDIENCE_" + v)  # type: ignore[misc]
        for v in values["audiences"]
        if v in AUDIENCES
    )
    errors: dict[str, str] = {} if known else {"pathway": CHOOSE}
    meetings = parse_meetings(values["meetings"])
    del group.meetings[:]
    if meetings is None:
        errors["meetings"] = MEETINGS_SHAPE
    else:
        group.meetings.extend(meetings)
    return values, errors


def field_name(api_field: str) -> str:
    """``group.meetings[0].day`` -> ``meetings``; a field the form does not show -> ``form``."""
    name = api_field.removeprefix("group.").split(".", 1)[0].split("[", 1)[0]
    return name if name in LABELS else "form"


def known_zone(zone: str) -> bool:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return bool(zone)


@dataclass(frozen=True)
class Meeting:
    """One weekly meeting as a day and times, e.g. Tuesday 19:00-20:30."""

    day: int
    start: str
    end: str


def own(w: types_pb2.WeeklyWindow) -> Meeting:
    return Meeting(w.day, clock(w.start_minute), clock(min(w.end_minute, 1440)))


def elsewhere(w: types_pb2.WeeklyWindow, zone: str, viewer: str, today: date) -> Meeting | None:
    """The meeting of the week of ``today`` as wall-clock time in ``viewer``'s zone (the clock
    changes as they are this week); None when either zone is unknown or they are the same."""
    if zone == viewer or not known_zone(zone) or not known_zone(viewer) or not 1 <= w.day <= 7:
        return None
    day = today - timedelta(days=today.isoweekday() - 1) + timedelta(days=w.day - 1)
    midnight = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone))
    start = (midnight + timedelta(minutes=w.start_minute)).astimezone(ZoneInfo(viewer))
    end = (midnight + timedelta(minutes=w.end_minute)).astimezone(ZoneInfo(viewer))
    return Meeting(start.isoweekday(), start.strftime("%H:%M"), end.strftime("%H:%M"))
