"""Invalid input raises InvalidArgument naming the field, never echoing the value."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from alongside.kit.errors import InvalidArgument
from alongside.scheduler.domain.lifecycle import new_session
from alongside.scheduler.domain.model import Availability, Interval, Policy, SessionType
from alongside.scheduler.domain.slots import SlotQuery
from alongside.scheduler.domain.validation import zone

NOW = datetime(2027, 3, 1, 9, tzinfo=UTC)
SECRET = "Somewhere/Quillfeather-Street-12"  # stands for any personal value a caller might send


def slot_query(**changes: object) -> SlotQuery:
    base: dict[str, object] = {
        "peer": Availability((), "UTC"),
        "participant": None,
        "duration": timedelta(minutes=45),
        "earliest": NOW,
        "horizon_end": NOW + timedelta(days=7),
    }
    base.update(changes)
    return SlotQuery(**base)  # type: ignore[arg-type]


def book(start: datetime, kind: str = "intake") -> object:
    return new_session(
        session_id="s", peer_id="p", participant_ref="r", start=start, session_type=kind, now=NOW, policy=Policy()
    )


CASES: list[tuple[str, Callable[[], object], str]] = [
    ("end before start", lambda: Interval(NOW, NOW - timedelta(minutes=1)), "interval"),
    ("zero-length interval", lambda: Interval(NOW, NOW), "interval"),
    ("naive instant", lambda: Interval(NOW.replace(tzinfo=None), NOW), "interval.start"),
    ("unknown zone", lambda: zone(SECRET, "participant.time_zone"), "participant.time_zone"),
    ("path-like zone", lambda: zone("/etc/passwd", "time_zone"), "time_zone"),
    ("unknown zone in availability", lambda: Availability((), SECRET), "time_zone"),
    ("zero duration", lambda: slot_query(duration=timedelta(0)), "duration"),
    ("over 8 hours", lambda: slot_query(duration=timedelta(hours=8, minutes=1)), "duration"),
    ("horizon before earliest", lambda: slot_query(horizon_end=NOW - timedelta(days=1)), "horizon_end"),
    ("negative buffer", lambda: slot_query(buffer=timedelta(minutes=-5)), "buffer"),
    ("zero step", lambda: slot_query(step=timedelta(0)), "step"),
    ("zero cap", lambda: slot_query(daily_cap=0), "daily_cap"),
    ("past slot", lambda: book(NOW - timedelta(hours=1)), "slot.start"),
    ("unknown session type", lambda: book(NOW + timedelta(days=1), SECRET), "session_type"),
    ("session type over 8 hours", lambda: SessionType("marathon", 9 * 60), "session_type.minutes"),
    ("bad policy cap", lambda: Policy(max_sessions_per_day=0), "policy.max_sessions_per_day"),
    ("negative reminder offset", lambda: Policy(reminder_offsets=(timedelta(hours=-1),)), "policy.reminder_offsets"),
]


@pytest.mark.parametrize(("label", "call", "field"), CASES, ids=[c[0] for c in CASES])
def test_invalid_input_names_the_field(label: str, call: Callable[[], object], field: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        call()
    assert err.value.field == field
    assert SECRET not in str(err.value)


def test_exactly_eight_hours_is_allowed() -> None:
    assert slot_query(duration=timedelta(hours=8)).duration == timedelta(hours=8)


def test_known_session_types_resolve() -> None:
    assert [Policy().session_type(n).minutes for n in ("intake", "follow_up", "check_in")] == [60, 45, 30]
