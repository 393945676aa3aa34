"""The community-group CSV: good rows read, each bad row reported by line and field."""

from __future__ import annotations

import pytest

from alongside.kit.errors import InvalidArgument
from alongside.matcher.domain.groups import GroupAudience, GroupPathway
from alongside.matcher.domain.model import Modality, WeeklyWindow
from alongside.matcher.service.group_csv import parse_groups
from alongside.matcher.service.roster_csv import parse_roster

HEADER = "group_id,name,pathway,languages,modalities,area,time_zone,meetings,accessibility,audiences,retired"
GOOD = ('g-1,Tuesday Night Fellowship,twelve step,en;es,in person;video,Kent,America/New_York,'
        'tue 19:00-20:30; sat 10:00-11:00,Step-free access,adults;lgbtq,no')


def test_a_good_row_reads_into_a_normalised_group() -> None:
    (group,), errors = parse_groups(f"{HEADER}\n{GOOD}\n".encode())
    assert errors == []
    assert group.group_id == "g-1" and group.name == "Tuesday Night Fellowship"
    assert group.pathway == GroupPathway.TWELVE_STEP and group.area == "kent"
    assert group.languages == {"en", "es"} and group.modalities == {Modality.IN_PERSON, Modality.VIDEO}
    assert group.meetings == (WeeklyWindow(1, 1140, 1230), WeeklyWindow(5, 600, 660))
    assert group.audiences == {GroupAudience.ADULTS, GroupAudience.LGBTQ} and not group.retired


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ("g 2,Name,twelve_step,en,video,,UTC,mon 10:00-11:00,,,", "group_id"),
        ("g-2,,twelve_step,en,video,,UTC,mon 10:00-11:00,,,", "name"),
        ("g-2,Name,yoga,en,video,,UTC,mon 10:00-11:00,,,", "pathway"),
        ("g-2,Name,twelve_step;smart_recovery,en,video,,UTC,mon 10:00-11:00,,,", "pathway"),
        ("g-2,Name,twelve_step,english,video,,UTC,mon 10:00-11:00,,,", "languages"),
        ("g-2,Name,twelve_step,,video,,UTC,mon 10:00-11:00,,,", "languages"),
        ("g-2,Name,twelve_step,en,text,,UTC,mon 10:00-11:00,,,", "modalities"),
        ("g-2,Name,twelve_step,en,in_person,,UTC,mon 10:00-11:00,,,", "area"),
        ("g-2,Name,twelve_step,en,video,,Mars/Olympus,mon 10:00-11:00,,,", "time_zone"),
        ("g-2,Name,twelve_step,en,video,,UTC,someday,,,", "meetings"),
        ("g-2,Name,twelve_step,en,video,,UTC,,,,", "meetings"),
        ("g-2,Name,twelve_step,en,video,,UTC,mon 11:00-10:00,,,", "meetings[0]"),
        ("g-2,Name,twelve_step,en,video,,UTC,mon 10:00-11:00," + "x" * 501 + ",,", "accessibility"),
        ("g-2,Name,twelve_step,en,video,,UTC,mon 10:00-11:00,,everyone,", "audiences"),
        ("g-2,Name,twelve_step,en,video,,UTC,mon 10:00-11:00,,,maybe", "retired"),
        ("g-2,Name,twelve_step", "row"),
    ],
)
def test_each_bad_field_is_reported_by_line_and_the_good_rows_are_kept(row: str, field: str) -> None:
    groups, errors = parse_groups(f"{HEADER}\n{GOOD}\n{row}\n".encode())
    assert [g.group_id for g in groups] == ["g-1"]
    assert [(e.line, e.field) for e in errors] == [(3, field)]


def test_a_repeated_id_is_reported_and_a_bad_header_refuses_the_file() -> None:
    _, errors = parse_groups(f"{HEADER}\n{GOOD}\n{GOOD}\n".encode())
    assert [(e.line, e.field, e.reason) for e in errors] == [(3, "group_id", "appears on an earlier row")]
    with pytest.raises(InvalidArgument, match="lacks the column"):
        parse_groups(b"group_id,name\ng,x\n")
    with pytest.raises(InvalidArgument, match="unknown column"):
        parse_groups(f"{HEADER},popularity\n".encode())
    with pytest.raises(InvalidArgument, match="semicolons"):
        parse_groups(HEADER.replace(",", ";").encode())


def test_the_roster_reads_through_the_same_machinery() -> None:
    peers, errors = parse_roster(b"peer_id,types,time_zone,capacity,availability\n"
                                 b"p1,recovery_coach,UTC,3,mon 09:00-10:00\n"
                                 b"p1,recovery_coach,UTC,3,\np2,recovery_coach,UTC,x,\n")
    assert [p.peer_id for p in peers] == ["p1"]
    assert [(e.line, e.field) for e in errors] == [(3, "peer_id"), (4, "capacity")]
