"""Whether a weekly series keeps fitting both people's windows, and which clock change breaks it.

A series keeps the peer's wall time (``recurrence``); the participant's
windows keep theirs. When only one of the two zones changes its clocks, or
they change on different dates, the series slides an hour against the
participant's windows, and a time that fits in December may not fit after
the second Sunday of March. That is the matcher's engagement rule
(``alongside.kit.clock_changes``, ``docs/matcher.md``) applied to one
concrete series: every occurrence is checked, and a refusal names the
occurrence's date and the clock change that broke it, so a series is never
booked that must break at a clock change without saying so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from alongside.kit.clock_changes import offset_changes

from . import tz as tzx
from . import validation as v
from .booking import EXPLANATIONS, Blocker
from .model import Availability, Interval
from .windows import covers


@dataclass(frozen=True, slots=True)
class Break:
    """Occurrence ``index`` (on the peer's local ``day``) falls outside someone's windows."""

    index: int
    day: date
    blocker: Blocker
    change: date | None  # the peer's local date of the last clock change since the first occurrence

    def explain(self, total: int) -> str:
        where = f"occurrence {self.index} on {self.day.isoformat()}" if total > 1 else "the slot"
        text = f"{where} is not bookable: {EXPLANATIONS[self.blocker]}"
        if self.change is not None:
            text += f" once the clocks change on {self.change.isoformat()}"
        return text


def first_break(peer: Availability, participant: Availability | None, slots: Sequence[Interval]) -> Break | None:
    """The first occurrence outside the peer's or the participant's weekly windows, if any."""
    zone = v.zone(peer.tz, "peer.time_zone")
    for index, slot in enumerate(slots):
        if not covers(peer, slot):
            blocker = Blocker.PEER_UNAVAILABLE
        elif participant is not None and not covers(participant, slot):
            blocker = Blocker.PARTICIPANT_UNAVAILABLE
        else:
            continue
        change = last_change(peer, participant, slots[0].start, slot.start) if index else None
        day = tzx.local_of(slot.start, zone).date()
        return Break(index, day, blocker, None if change is None else tzx.local_of(change, zone).date())
    return None


def last_change(
    peer: Availability, participant: Availability | None, start: datetime, end: datetime
) -> datetime | None:
    """The last instant in ``(start, end)`` where either person's zone changes its UTC offset."""
    zones = {peer.tz} | ({participant.tz} if participant is not None else set())
    changes = [c for z in sorted(zones) for c in offset_changes(z, start, end)]
    return max(changes, default=None)
