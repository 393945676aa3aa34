"""Group sessions' pure parts: the group's rules, its weekly series across a
clock change, the roster entry's stored form and the roster's order."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from alongside.kit.errors import InvalidArgument
from alongside.scheduler.adapters.group_codec import decode_group, encode_group
from alongside.scheduler.domain.groups import Enrolment, Group, Modality, RosterEntry, occurrence_id, roster_order
from alongside.scheduler.domain.recurrence import Series


def group(**extra: object) -> Group:
    series = Series(
        id="p-1~g1",
        peer_id="p-1",
        participant_ref="",
        tz="America/New_York",
        first_start_local=datetime(2027, 3, 9, 18),
        duration=timedelta(minutes=90),
        count=3,
        session_type="group",
    )
    fields: dict[str, object] = {
        "id": "p-1~g1",
        "host_peer_id": "p-1",
        "co_facilitator_peer_id": "p-2",
        "capacity": 12,
        "modality": Modality.VIDEO,
        "series": series,
        **extra,
    }
    return Group(**fields)  # type: ignore[arg-type]


def test_meetings_keep_the_hosts_wall_time_across_the_clock_change() -> None:
    meetings = group().occurrences()
    assert [m.interval.start.hour for m in meetings] == [23, 22, 22]  # 18:00 EST, then EDT from 14 March
    assert occurrence_id("p-1~g1", 2) == "p-1~g1.2"


BAD = [
    ({"capacity": 0}, "capacity"),
    ({"capacity": 51}, "capacity"),
    ({"co_facilitator_peer_id": "p-1"}, "co_facilitator_peer_id"),
]


@pytest.mark.parametrize(("extra", "field"), BAD)
def test_bad_groups_are_refused_naming_the_field(extra: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidArgument) as raised:
        group(**extra)
    assert raised.value.field == field


def test_a_group_survives_its_stored_form_and_cancelling_ends_its_meetings() -> None:
    g = group()
    assert decode_group(encode_group(g)) == g
    assert g.cancelled().occurrences() == [] and not g.cancelled().active
    with pytest.raises(InvalidArgument):
        g.occurrence(7)


def test_roster_entries_round_trip_and_order_enrolled_then_waiting_then_withdrawn() -> None:
    entries = [
        RosterEntry("r-w2", Enrolment.WAITING, 5, "e5", 1),
        RosterEntry("r-x", Enrolment.WITHDRAWN, 1, "e1", 1),
        RosterEntry("r-e", Enrolment.ENROLLED, 2, "e2", 1),
        RosterEntry("r-w1", Enrolment.WAITING, 3, "e3", 1),
    ]
    assert all(RosterEntry.decode(e.participant_ref, e.encode()) == e for e in entries)
    assert [e.participant_ref for e in roster_order(entries)] == ["r-e", "r-w1", "r-w2", "r-x"]
