"""The programme dashboard's figures over the matcher's data: pure.

A participant waits from intake until a match is accepted; the history of
the waiting list is rebuilt from those two timestamps, which every request
and match already stores, so nothing is snapshotted (docs/dashboard.md).
Every count, percentile and group passes the small-cell rule of
``alongside.kit.stats``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from alongside.kit.stats import OTHER, Count, StatsRange, Summary, by_key, cell, merge_small, summarise

NEVER = np.iinfo(np.int64).max
BIN_PERCENT = 10  # caseload bins of 10 points, the last one "100% and over"


@dataclass(frozen=True, slots=True)
class IntakeFact:
    """What the dashboard needs of one request: dates, urgency and tags, never who."""

    created_ms: int
    urgency: str
    matched_ms: int | None = None
    waitlisted: bool = False
    languages: frozenset[str] = frozenset()
    languages_required: bool = False
    cultures: frozenset[str] = frozenset()
    cultures_required: bool = False
    # The matched peer's languages and cultures (empty while unmatched).
    peer_languages: frozenset[str] = frozenset()
    peer_cultures: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Intakes:
    """Every request as columns; ``stated`` only those that named a language or culture.

    A year of a 500-peer programme is thousands of requests: the waiting
    list's history is computed on the columns, and only equity looks at
    requests one by one.
    """

    created_ms: npt.NDArray[np.int64]
    matched_ms: npt.NDArray[np.int64]  # NEVER while unmatched
    urgency: list[str]
    waitlisted: npt.NDArray[np.bool_]
    stated: list[IntakeFact]

    @classmethod
    def of(cls, rows: Sequence[IntakeFact]) -> Intakes:
        return cls(
            np.array([i.created_ms for i in rows], dtype=np.int64),
            np.array([NEVER if i.matched_ms is None else i.matched_ms for i in rows], dtype=np.int64),
            [i.urgency for i in rows],
            np.array([i.waitlisted for i in rows], dtype=bool),
            [i for i in rows if i.languages or i.cultures],
        )


@dataclass(frozen=True, slots=True)
class WaitingPoint:
    bucket_start_ms: int
    waiting: Count
    age: Summary
    submitted: Count
    matched: Count


@dataclass(frozen=True, slots=True)
class CaseloadBin:
    lower_percent: int
    upper_percent: int  # 0: no upper limit
    peers: Count


@dataclass(frozen=True, slots=True)
class Caseload:
    active_peers: int
    capacity_units: int
    load_units: int
    bins: tuple[CaseloadBin, ...]


@dataclass(frozen=True, slots=True)
class EquityGroup:
    dimension: str
    value: str
    requests: int  # never below k: smaller groups are merged
    matched: Count
    preference_met: Count
    required: Count
    required_met: Count
    wait: Summary


@dataclass(frozen=True)
class ProgrammeStats:
    waiting: list[WaitingPoint]
    waitlisted_now: Summary
    time_to_match: dict[str, Summary]
    caseload: Caseload
    equity: list[EquityGroup] = field(default_factory=list)


def programme_stats(
    intakes: Intakes, loads: Sequence[tuple[int, int]], rng: StatsRange, now_ms: int, k: int
) -> ProgrammeStats:
    """Every figure at once; ``loads`` is (capacity, load) per active peer."""
    created, matched = intakes.created_ms, intakes.matched_ms
    return ProgrammeStats(
        waiting=waiting_series(created, matched, rng, now_ms, k),
        waitlisted_now=summarise(now_ms - created[intakes.waitlisted], k),
        time_to_match=time_to_match(created, matched, intakes.urgency, rng, k),
        caseload=caseload(loads, k),
        equity=equity(intakes.stated, rng, now_ms, k),
    )


def waiting_series(
    created: np.ndarray, matched: np.ndarray, rng: StatsRange, now_ms: int, k: int
) -> list[WaitingPoint]:
    """At each bucket's end: who had an intake and no match yet, and for how long."""
    submitted, accepted = rng.per_bucket(created), rng.per_bucket(matched[matched != NEVER])
    out = []
    for b, (start, at) in enumerate(zip(rng.starts, rng.snapshot_at(now_ms), strict=True)):
        waiting = (created <= at) & (matched > at) if at >= start else np.zeros(len(created), dtype=bool)
        out.append(
            WaitingPoint(
                bucket_start_ms=start,
                waiting=cell(int(waiting.sum()), k),
                age=summarise(at - created[waiting], k),
                submitted=cell(submitted[b], k),
                matched=cell(accepted[b], k),
            )
        )
    return out


def time_to_match(
    created: np.ndarray, matched: np.ndarray, urgency: Sequence[str], rng: StatsRange, k: int
) -> dict[str, Summary]:
    """Intake to accepted match, by urgency, for matches accepted in the range."""
    inside = rng.index(matched) >= 0
    keys = [u for u, keep in zip(urgency, inside.tolist(), strict=True) if keep]
    return {u: summarise(d, k) for u, d in by_key(keys, (matched - created)[inside]).items()}


def caseload(loads: Sequence[tuple[int, int]], k: int) -> Caseload:
    """How full the active peers are, as a histogram of load / capacity."""
    active = [(cap, load) for cap, load in loads if cap > 0]
    last = 100 // BIN_PERCENT
    counts = [0] * (last + 1)
    for cap, load in active:
        counts[min(max(load, 0) * 100 // cap // BIN_PERCENT, last)] += 1
    bins = tuple(
        CaseloadBin(i * BIN_PERCENT, 0 if i == last else (i + 1) * BIN_PERCENT, cell(n, k))
        for i, n in enumerate(counts)
    )
    return Caseload(len(active), sum(c for c, _ in active), sum(max(load, 0) for _, load in active), bins)


def equity(intakes: Sequence[IntakeFact], rng: StatsRange, now_ms: int, k: int) -> list[EquityGroup]:
    """Per language and culture stated at intake (in the range): matched, met, waited."""
    cohort = [i for i in intakes if rng.start_ms <= i.created_ms < rng.end_ms]
    out: list[EquityGroup] = []
    for dimension in ("language", "culture"):
        groups: dict[str, set[int]] = {}
        for n, intake in enumerate(cohort):
            for tag in _tags(intake, dimension)[0]:
                groups.setdefault(tag, set()).add(n)
        kept = merge_small(groups, k)
        merged = set(groups) - set(kept)
        for value, members in kept.items():
            named = merged if value == OTHER else {value}
            rows = [cohort[n] for n in sorted(members)]
            out.append(_group(dimension, value, rows, named, now_ms, k))
    return out


def _tags(intake: IntakeFact, dimension: str) -> tuple[frozenset[str], bool, frozenset[str]]:
    """(stated tags, required, the matched peer's tags) of one dimension."""
    if dimension == "language":
        return intake.languages, intake.languages_required, intake.peer_languages
    return intake.cultures, intake.cultures_required, intake.peer_cultures


def _group(dimension: str, value: str, rows: list[IntakeFact], named: set[str], now_ms: int, k: int) -> EquityGroup:
    matched = [r for r in rows if r.matched_ms is not None]
    met = [r for r in matched if _tags(r, dimension)[0] & _tags(r, dimension)[2] & named]
    required = [r for r in rows if _tags(r, dimension)[1]]
    waits = [(r.matched_ms if r.matched_ms is not None else now_ms) - r.created_ms for r in rows]
    return EquityGroup(
        dimension=dimension,
        value=value,
        requests=len(rows),
        matched=cell(len(matched), k),
        preference_met=cell(len(met), k),
        required=cell(len(required), k),
        required_met=cell(sum(1 for r in required if r.matched_ms is not None), k),
        wait=summarise(waits, k),
    )
