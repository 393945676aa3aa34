"""The programme dashboard's session figures: pure.

Sessions already store their start and status, so outcomes per bucket are
counted from them over any range; the time from intake to first session
joins each match's earliest session that was not cancelled with the intake
time the matcher's ``match.accepted`` event carried (docs/dashboard.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from alongside.kit.stats import Count, StatsRange, Summary, by_key, cell
from alongside.kit.stats import summarise as summarise_ms
from alongside.scheduler.domain.model import SessionStatus

STATUSES = (SessionStatus.ATTENDED, SessionStatus.NO_SHOW, SessionStatus.CANCELLED, SessionStatus.BOOKED)


@dataclass(frozen=True, slots=True)
class SessionFact:
    """One session as the dashboard sees it: when, how it went, which match."""

    start_ms: int
    status: SessionStatus
    match_id: str = ""


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


def session_stats(
    sessions: Sequence[SessionFact], intakes: Mapping[str, IntakeTime], rng: StatsRange, k: int
) -> SessionStats:
    return SessionStats(outcomes(sessions, rng, k), time_to_first_session(sessions, intakes, rng, k))


def outcomes(sessions: Sequence[SessionFact], rng: StatsRange, k: int) -> list[Outcomes]:
    """Sessions that start in each bucket, by status."""
    starts = np.array([s.start_ms for s in sessions], dtype=np.int64)
    status = np.array([STATUSES.index(s.status) for s in sessions], dtype=np.int64)
    per = [rng.per_bucket(starts[status == code]) for code in range(len(STATUSES))]
    return [Outcomes(b, *(cell(per[code][n], k) for code in range(len(STATUSES)))) for n, b in enumerate(rng.starts)]


def first_sessions(sessions: Sequence[SessionFact]) -> dict[str, int]:
    """Each match's earliest session that was not cancelled."""
    first: dict[str, int] = {}
    for s in sessions:
        if s.match_id and s.status is not SessionStatus.CANCELLED:
            seen = first.get(s.match_id)
            if seen is None or s.start_ms < seen:
                first[s.match_id] = s.start_ms
    return first


def time_to_first_session(
    sessions: Sequence[SessionFact], intakes: Mapping[str, IntakeTime], rng: StatsRange, k: int
) -> dict[str, Summary]:
    """Intake to first session, by urgency, for first sessions that start in the range."""
    pairs = [
        (intakes[m].urgency, start - intakes[m].requested_ms)
        for m, start in first_sessions(sessions).items()
        if m in intakes and rng.start_ms <= start < rng.end_ms
    ]
    durations = np.array([d for _, d in pairs], dtype=np.int64)
    return {u: summarise_ms(d, k) for u, d in by_key([u for u, _ in pairs], durations).items()}
