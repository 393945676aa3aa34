"""The programme dashboard's session figures: pure.

Sessions already store their start and status, so outcomes per bucket are
counted from them over any range; the time from intake to first session
joins each match's earliest session that was not cancelled with the intake
time the matcher's ``match.accepted`` event carried (docs/dashboard.md).
A year of a 500-peer programme is some tens of thousands of sessions, so
they arrive as columns (numpy arrays), not one object each.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from alongside.kit.stats import Count, StatsRange, Summary, by_key, cell, summarise
from alongside.scheduler.domain.model import SessionStatus

# Each status by its first letter, as the session's stored fact spells it.
LETTERS = {s: ord(s.value[0]) for s in SessionStatus}
ORDER = (SessionStatus.ATTENDED, SessionStatus.NO_SHOW, SessionStatus.CANCELLED, SessionStatus.BOOKED)


@dataclass(frozen=True, slots=True)
class SessionFact:
    """One session as the dashboard sees it: when, how it went, which match."""

    start_ms: int
    status: SessionStatus
    match_id: str = ""


@dataclass(frozen=True)
class Sessions:
    """Sessions as columns: start (ms), status letter, match id (b"" for none)."""

    start_ms: npt.NDArray[np.int64]
    status: npt.NDArray[np.uint8]
    match_id: npt.NDArray[np.bytes_]

    @classmethod
    def of(cls, rows: Sequence[SessionFact]) -> Sessions:
        return cls(
            np.array([r.start_ms for r in rows], dtype=np.int64),
            np.array([LETTERS[r.status] for r in rows], dtype=np.uint8),
            np.array([r.match_id.encode() for r in rows], dtype=np.bytes_),
        )


@dataclass(frozen=True, slots=True)
class IntakeTime:
    """When a match's intake was submitted, and its urgency (the matcher's name)."""

    requested_ms: int
    urgency: str


@dataclass(frozen=True, slots=True)
class Outcomes:
    bucket_start_ms: int
    attended: Count
    no_show: Count
    cancelled: Count
    booked: Count


@dataclass(frozen=True)
class SessionStats:
    outcomes: list[Outcomes]
    time_to_first_session: dict[str, Summary]


def session_stats(sessions: Sessions, intakes: Mapping[bytes, IntakeTime], rng: StatsRange, k: int) -> SessionStats:
    return SessionStats(outcomes(sessions, rng, k), time_to_first_session(sessions, intakes, rng, k))


def outcomes(sessions: Sessions, rng: StatsRange, k: int) -> list[Outcomes]:
    """Sessions that start in each bucket, by status."""
    per = [rng.per_bucket(sessions.start_ms[sessions.status == LETTERS[s]]) for s in ORDER]
    return [Outcomes(b, *(cell(column[n], k) for column in per)) for n, b in enumerate(rng.starts)]


def first_sessions(sessions: Sessions, before_ms: int | None = None) -> dict[bytes, int]:
    """Each match's earliest session that was not cancelled (among those starting before ``before_ms``)."""
    keep = (sessions.status != LETTERS[SessionStatus.CANCELLED]) & (sessions.match_id != b"")
    if before_ms is not None:
        keep &= sessions.start_ms < before_ms
    starts, matches = sessions.start_ms[keep], sessions.match_id[keep]
    latest_first = np.argsort(starts, kind="stable")[::-1]
    # A dict keeps the last value written: walking from the latest, that is the earliest.
    return dict(zip(matches[latest_first].tolist(), starts[latest_first].tolist(), strict=True))


def time_to_first_session(
    sessions: Sessions, intakes: Mapping[bytes, IntakeTime], rng: StatsRange, k: int
) -> dict[str, Summary]:
    """Intake to first session, by urgency, for first sessions that start in the range."""
    pairs = [
        (intakes[m].urgency, start - intakes[m].requested_ms)
        for m, start in first_sessions(sessions, before_ms=rng.end_ms).items()
        if rng.start_ms <= start < rng.end_ms and m in intakes
    ]
    durations = np.array([d for _, d in pairs], dtype=np.int64)
    return {u: summarise(d, k) for u, d in by_key([u for u, _ in pairs], durations).items()}
