"""Community-group CSV: one group per row, read as the roster CSV is
(``csv_table``): a bad row is reported with its line, field and reason and
is not imported; the good rows are.

Columns (header row required; list cells separated by ``;``): group_id,
name, pathway (twelve_step, smart_recovery, refuge_recovery,
recovery_dharma, medication_assisted, family, recovery_community_org,
peer_led, other), languages, modalities (in_person, video, phone), area,
time_zone, meetings (``tue 19:00-20:30; sat 10:00-11:00``, in time_zone),
accessibility, audiences (adults, young_people, older_adults, families,
women, men, lgbtq, veterans), retired (yes/no). group_id, name, pathway,
languages, modalities, time_zone and meetings are required.
"""

from __future__ import annotations

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.kit.errors import InvalidArgument
from alongside.matcher.domain import model as m
from alongside.matcher.domain.groups import CommunityGroup, GroupAudience, GroupPathway, validate_group
from alongside.matcher.service.csv_table import enums, items, read_table, windows

COLUMNS = (
    "group_id", "name", "pathway", "languages", "modalities", "area", "time_zone", "meetings",
    "accessibility", "audiences", "retired",
)  # fmt: skip
REQUIRED = ("group_id", "name", "pathway", "languages", "modalities", "time_zone", "meetings")
MAX_ROWS = 5_000
_YES, _NO = ("yes", "true", "1", "y"), ("", "no", "false", "0", "n")


def parse_groups(data: bytes) -> tuple[list[CommunityGroup], list[pb.RowError]]:
    return read_table(
        data,
        columns=COLUMNS,
        required=REQUIRED,
        max_rows=MAX_ROWS,
        make=lambda cells, _line: validate_group(_group(cells)),
        key=lambda group: group.group_id,
        key_field="group_id",
    )


def _group(c: dict[str, str]) -> CommunityGroup:
    pathway = enums("pathway", c.get("pathway", ""), GroupPathway)
    if len(pathway) != 1:
        raise InvalidArgument("pathway", "must name exactly one pathway")
    retired = c.get("retired", "").lower()
    if retired not in _YES + _NO:
        raise InvalidArgument("retired", "must be yes or no")
    return CommunityGroup(
        group_id=c.get("group_id", ""),
        name=c.get("name", ""),
        pathway=next(iter(pathway)),
        languages=items(c.get("languages", "")),
        modalities=enums("modalities", c.get("modalities", ""), m.Modality),
        area=c.get("area", ""),
        time_zone=c.get("time_zone", ""),
        meetings=windows("meetings", c.get("meetings", "")),
        accessibility=c.get("accessibility", ""),
        audiences=enums("audiences", c.get("audiences", ""), GroupAudience),
        retired=retired in _YES,
    )
