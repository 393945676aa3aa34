"""The dashboard's group attendance per bucket: pure.

Each attendance record (one participant at one meeting) is stored as a fact
``start_ms|A`` (attended) or ``start_ms|N`` (absent) with the record itself,
so the figure is counted from the facts over any range, by the meeting's
start, with the small-cell rule: counts only, nothing that names anyone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from alongside.kit.stats import Count, StatsRange, cell

ATTENDED, ABSENT = ord("A"), ord("N")


@dataclass(frozen=True)
class Attendance:
    start_ms: npt.NDArray[np.int64]
    letter: npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class AttendanceWeek:
    bucket_start_ms: int
    attended: Count
    absent: Count


def attendance_of(facts: Sequence[bytes]) -> Attendance:
    """``start_ms|letter`` facts as columns; a malformed one is skipped."""
    starts, letters = [], []
    for fact in facts:
        stamp, _, letter = fact.partition(b"|")
        if stamp.isdigit() and letter in (b"A", b"N"):
            starts.append(int(stamp))
            letters.append(letter[0])
    return Attendance(np.array(starts, dtype=np.int64), np.array(letters, dtype=np.uint8))


def group_attendance(records: Attendance, rng: StatsRange, k: int) -> list[AttendanceWeek]:
    attended = rng.per_bucket(records.start_ms[records.letter == ATTENDED])
    absent = rng.per_bucket(records.start_ms[records.letter == ABSENT])
    return [AttendanceWeek(b, cell(attended[n], k), cell(absent[n], k)) for n, b in enumerate(rng.starts)]
