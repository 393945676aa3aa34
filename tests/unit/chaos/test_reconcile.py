"""The chaos run's pure checks: overlapping sessions and the fault schedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alongside.api.scheduler.v1 import scheduler_pb2 as spb
from tests.chaos.driver import OUTAGE_S, schedule
from tests.chaos.reconcile import overlapping

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def session(session_id: str, start_min: int, minutes: int, status: int = spb.SESSION_STATUS_BOOKED) -> spb.Session:
    found = spb.Session(session_id=session_id, peer_id="peer-1", status=status)
    found.start.FromDatetime(T0 + timedelta(minutes=start_min))
    found.end.FromDatetime(T0 + timedelta(minutes=start_min + minutes))
    return found


def test_back_to_back_sessions_do_not_overlap() -> None:
    assert overlapping([session("b", 60, 60), session("a", 0, 60)]) == []


def test_a_long_session_overlaps_one_that_is_not_its_neighbour() -> None:
    found = overlapping([session("long", 0, 180), session("mid", 60, 30), session("late", 120, 30)])
    assert len(found) == 2
    assert all("long" in line for line in found)


def test_cancelled_sessions_do_not_count() -> None:
    assert overlapping([session("a", 0, 60), session("b", 30, 60, spb.SESSION_STATUS_CANCELLED)]) == []


def test_the_outage_profile_keeps_other_faults_out_of_the_outage() -> None:
    faults = schedule(480, outage=True)
    (outage,) = [f for f in faults if f.kind == "nats-outage"]
    assert all(not outage.at_s - 10 <= f.at_s < outage.at_s + OUTAGE_S + 20 for f in faults if f is not outage)
    assert {f.kind for f in faults} == {"nats-outage", "valkey-failover", "nats-kill", "service-kill", "nats-stop"}
    assert max(f.at_s for f in faults) < 470


def test_the_default_schedule_cycles_every_fault_kind() -> None:
    faults = schedule(300)
    assert len(faults) == 14
    assert [f.kind for f in faults[:4]] == ["valkey-failover", "nats-kill", "service-kill", "nats-stop"]
