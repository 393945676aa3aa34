"""Online matching latency: vectorised ``shortlist()`` against a per-peer loop.

Run: ``python bench/match_scoring.py`` (2,000 peers, 1,000 requests) or
``--quick`` (2,000 peers, 100 requests).

The roster is synthetic but shaped like a programme's: mostly US zones,
English plus Spanish and a few community languages, 1-4 lived-experience
areas, 3-8 weekly windows, some peers full or on leave. Requests mix
preferred and required preferences, interpreters, exclusions, continuity,
acuity 1-3 and 30-90 minute sessions; some end on the waiting list.

A request's latency is the best of ``--passes`` (3) cold passes: on a shared
machine the scheduler otherwise charges a few requests a whole 4 ms time
slice of someone else's work. ``--passes 1`` gives the raw figures.

Baseline: a straightforward pure-Python loop over peers with the same
rules, the same score arithmetic and Python-int slot bitsets. Both engines
must return the same top k (ids and scores) and, when nobody fits, name the
same emptying constraint; the run fails loudly otherwise.

Availability must hold over the engagement horizon (``--horizon-weeks``,
26 as in the service): one AND per distinct week (one per offset regime,
and one per week with a clock change). The
table also times the engine with a zero horizon (only today's offsets, the
rule before the horizon), so both are measured in one run, on one load.
The loop builds each pair's calendar weeks its own way (a week with a clock
change slot by slot through zoneinfo), for the weeks that may differ.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np

from alongside.kit.clock_changes import offset_changes
from alongside.matcher.domain import availability as av
from alongside.matcher.domain.constraints import HARD_CONSTRAINTS, type_serves_age
from alongside.matcher.domain.feasibility import feasible
from alongside.matcher.domain.model import (
    AgeBand,
    MatchRequest,
    Modality,
    Participant,
    Peer,
    PeerStatus,
    PeerType,
    Preference,
    Preferences,
    Strength,
    WeeklyWindow,
)  # fmt: skip
from alongside.matcher.domain.query import compile_query
from alongside.matcher.domain.roster_index import RosterIndex
from alongside.matcher.domain.scoring import score
from alongside.matcher.domain.shortlist import shortlist, top_k
from alongside.matcher.domain.weights import Weights

NOW = datetime(2026, 3, 18, 15, 0, tzinfo=UTC)
HORIZON = timedelta(weeks=26)
K = 5
ZONES = ("America/New_York",) * 7 + ("America/Chicago",) * 5 + ("America/Los_Angeles",) * 5 + (
    "America/Denver", "America/Phoenix", "Pacific/Honolulu", "Europe/London")  # fmt: skip
LANGS = ("es",) * 10 + ("so", "vi", "ar", "ase", "hmn", "ht", "zh", "ru")
CULTURES = ("latinx", "somali", "black", "vietnamese", "arab", "deaf", "native_american", "hmong", "jewish", "muslim")
AREAS = ("substance_use", "mental_health", "justice_involvement", "homelessness", "veteran", "lgbtq", "parenting")
PATHS = ("medication_assisted", "twelve_step", "smart", "harm_reduction", "faith_based", "secular")
SERVICE = tuple(f"region_{i}" for i in range(12))
GENDERS = ("woman",) * 10 + ("man",) * 8 + ("nonbinary", "")
ADULT_BANDS = (AgeBand.YOUNG_ADULT, AgeBand.ADULT, AgeBand.OLDER_ADULT)


def _windows(rng: random.Random, count: int, hours: tuple[int, int]) -> tuple[WeeklyWindow, ...]:
    out = []
    for _ in range(count):
        start = rng.randrange(7 * 60, 17 * 60, 30)
        out.append(WeeklyWindow(rng.randrange(7), start, min(1440, start + 60 * rng.randint(*hours))))
    return tuple(out)


def _some(rng: random.Random, pool: tuple[str, ...], low: int, high: int) -> frozenset[str]:
    return frozenset(rng.sample(pool, rng.randint(low, high)))


def make_peer(rng: random.Random, i: int) -> Peer:
    kind = rng.choices(list(PeerType), weights=(30, 30, 20, 10, 10))[0]
    types = {kind} | ({rng.choice(list(PeerType))} if rng.random() < 0.15 else set())
    ages = {PeerType.YOUTH_PEER: {AgeBand.YOUTH, AgeBand.YOUNG_ADULT},
            PeerType.FAMILY_PEER: {AgeBand.CHILD, AgeBand.YOUTH, AgeBand.ADULT}}.get(kind) or set(
        rng.sample(ADULT_BANDS, rng.randint(1, 3)))  # fmt: skip
    modes = {m for m, p in zip(Modality, (0.7, 0.9, 0.8, 0.5), strict=True) if rng.random() < p} or {Modality.PHONE}
    return Peer(
        peer_id=f"peer-{i:05d}", types=frozenset(types),
        certifications=frozenset(c for c in ("CPSS", "CRSS", "CPRS") if rng.random() < 0.4),
        languages=frozenset({"en"} if rng.random() < 0.95 else set()) | _some(rng, LANGS, 0, 2),
        cultures=_some(rng, CULTURES, 0, 2), gender=rng.choice(GENDERS),
        lived_experience=_some(rng, AREAS, 1, 4), pathways=_some(rng, PATHS, 1, 3),
        modalities=frozenset(modes), service_area=rng.choice(SERVICE), age_groups=frozenset(ages),
        time_zone=rng.choice(ZONES), availability=_windows(rng, rng.randint(3, 8), (2, 6)),
        capacity=rng.randint(4, 20), status=rng.choices(list(PeerStatus), weights=(88, 7, 5))[0],
    )  # fmt: skip


def _pref(rng: random.Random, chance: float, values: frozenset[str], required: float) -> Preference | None:
    if rng.random() >= chance:
        return None
    return Preference(values, Strength.REQUIRED if rng.random() < required else Strength.PREFERRED)


def make_request(rng: random.Random, i: int, peer_ids: list[str]) -> MatchRequest:
    band = rng.choices(list(AgeBand), weights=(3, 10, 25, 55, 7))[0]
    types = frozenset(rng.sample(list(PeerType), rng.randint(1, 2)))
    if band in (AgeBand.CHILD, AgeBand.YOUTH) and rng.random() < 0.8:
        types = frozenset({PeerType.YOUTH_PEER, PeerType.FAMILY_PEER})
    prefs = Preferences(
        languages=_pref(rng, 0.35, frozenset({rng.choice(LANGS)}), 0.4),
        gender=_pref(rng, 0.3, frozenset({rng.choice(GENDERS[:-1])}), 0.3),
        cultures=_pref(rng, 0.25, _some(rng, CULTURES, 1, 2), 0.1),
        lived_experience=_pref(rng, 0.6, _some(rng, AREAS, 1, 3), 0.1),
        pathways=_pref(rng, 0.5, _some(rng, PATHS, 1, 2), 0.1),
        modalities=_pref(rng, 0.4, frozenset(rng.sample(list(Modality), rng.randint(1, 2))), 0.5),
        service_area=_pref(rng, 0.2, frozenset({rng.choice(SERVICE)}), 0.3),
        certifications=_pref(rng, 0.1, frozenset({rng.choice(("CPSS", "CRSS"))}), 1.0),
    )
    participant = Participant(f"pt-{i}", band, rng.choice(ZONES), _windows(rng, rng.randint(2, 6), (1, 4)),
                              interpreter_needed=rng.random() < 0.05, service_area=rng.choice(SERVICE))  # fmt: skip
    return MatchRequest(
        f"req-{i}", participant, types, prefs, acuity=rng.randint(1, 3),
        previous_peer_id=rng.choice(peer_ids) if rng.random() < 0.1 else "",
        excluded_peer_ids=frozenset(rng.sample(peer_ids, rng.randint(0, 3))),
        session_minutes=rng.choice((30, 45, 60, 60, 90)),
    )  # fmt: skip


# --- The baseline: one peer at a time, the same rules and arithmetic. ---

FULL_WEEK = (1 << av.SLOTS_PER_WEEK) - 1


@dataclass(frozen=True)
class LoopPeer:
    peer: Peer


Weeks = list[tuple[int, int]]  # (peer's slots, participant's slots) in each week of the pair that may differ


@lru_cache(maxsize=1024)
def pair_week_starts(mine: str, theirs: str, horizon: timedelta) -> tuple[datetime, ...]:
    """The weeks of the horizon that may differ for this pair: the first, and each with or after a change.

    A week with no clock change in it or in the week before is the week before again.
    """
    day = NOW.replace(hour=0, minute=0, second=0, microsecond=0)
    first = av.week_start(day)
    last = av.week_start(day + horizon - timedelta(seconds=1)) if horizon else first
    changes = [c for z in (mine, theirs) for c in offset_changes(z, first, last + av.ONE_WEEK)]
    weeks = {first} | {av.week_start(c) + k * av.ONE_WEEK for c in changes for k in (0, 1)}
    return tuple(sorted(w for w in weeks if w <= last))


def pair_weeks(p: Peer, r: MatchRequest, horizon: timedelta) -> Weeks:
    part = r.participant
    return [(calendar_week(p.availability, p.time_zone, w), calendar_week(part.availability, part.time_zone, w))
            for w in pair_week_starts(part.time_zone, p.time_zone, horizon)]  # fmt: skip


# The week the loop's own way: in a week without a clock change, each window at the zone's one offset
# (the engine's old arithmetic); in a week with one, slot by slot, free when the zone's wall clock at the
# slot's start, read with zoneinfo, is inside a window until the slot's end. Independent of the engine's
# week plans.


def _local(week: datetime, day: int, minute: int) -> datetime:
    return datetime.combine(week.date() + timedelta(days=day), dtime(0)) + timedelta(minutes=minute)


def _utc_minute(local: datetime, zone: ZoneInfo, week: datetime) -> int:
    return int((local.replace(tzinfo=zone).astimezone(UTC) - week).total_seconds() // 60)


@lru_cache(maxsize=65536)
def calendar_week(windows: tuple[WeeklyWindow, ...], time_zone: str, week: datetime) -> int:
    zone, bits = ZoneInfo(time_zone), 0
    if offset_changes(time_zone, week, week + av.ONE_WEEK):
        for i in range(av.SLOTS_PER_WEEK):
            wall = (week + i * timedelta(minutes=av.SLOT_MINUTES)).astimezone(zone)
            minute = wall.hour * 60 + wall.minute
            if any(w.day == wall.weekday() and w.start_minute <= minute <= w.end_minute - av.SLOT_MINUTES
                   for w in windows):  # fmt: skip
                bits |= 1 << i
        return bits
    for w in windows:
        start = _utc_minute(_local(week, w.day, w.start_minute), zone, week)
        length = _utc_minute(_local(week, w.day, w.end_minute), zone, week) - start
        start %= av.MINUTES_PER_WEEK
        spans = [(start, start + length)] if start + length <= av.MINUTES_PER_WEEK else [
            (start, av.MINUTES_PER_WEEK), (0, start + length - av.MINUTES_PER_WEEK)]  # fmt: skip
        for lo, hi in spans if length > 0 else []:
            first, end = -(-lo // av.SLOT_MINUTES), hi // av.SLOT_MINUTES
            bits |= ((1 << (end - first)) - 1) << first if end > first else 0
    return bits


def has_stretch(shared: int, length: int) -> bool:
    doubled = shared | (shared << av.SLOTS_PER_WEEK)  # a stretch may wrap past Sunday night
    run = doubled
    for shift in range(1, length):
        run &= doubled >> shift
    return run & FULL_WEEK != 0


def _req(pref: Preference | None) -> frozenset[str] | None:
    return pref.values if pref is not None and pref.required else None


def _pref_values(pref: Preference | None) -> frozenset[str] | None:
    return pref.values if pref is not None and pref.preferred else None


def meets_modality(p: Peer, wanted: frozenset[str], area: str) -> bool:
    return any(
        m in p.modalities and (m != Modality.IN_PERSON or (area != "" and area == p.service_area)) for m in wanted
    )


def first_failure(lp: LoopPeer, r: MatchRequest, blocked: frozenset[str], load: int, weeks: Weeks) -> int:
    """Index (in HARD_CONSTRAINTS order) of the first rule the peer breaks; 14 if none."""
    p, prefs, part = lp.peer, r.preferences, r.participant
    if p.status != PeerStatus.ACTIVE:
        return 0
    if not p.types & r.peer_types:
        return 1
    if p.peer_id in blocked:
        return 2
    if part.age_band not in p.age_groups or not any(type_serves_age(t, part.age_band) for t in p.types & r.peer_types):
        return 3
    if (v := _req(prefs.languages)) and not part.interpreter_needed and not p.languages & v:
        return 4
    if (v := _req(prefs.gender)) and p.gender not in v:
        return 5
    if (v := _req(prefs.certifications)) and not p.certifications & v:
        return 6
    if (v := _req(prefs.cultures)) and not p.cultures & v:
        return 7
    if (v := _req(prefs.lived_experience)) and not v <= p.lived_experience:
        return 8
    if (v := _req(prefs.pathways)) and not p.pathways & v:
        return 9
    if (v := _req(prefs.service_area)) and p.service_area not in v:
        return 10
    if not meets_modality(p, _req(prefs.modalities) or frozenset(Modality), part.service_area):
        return 11
    if not all(has_stretch(theirs & mine, av.session_slots(r.session_minutes)) for theirs, mine in weeks):
        return 12
    return 13 if p.capacity - load < r.acuity else 14


def loop_score(
    lp: LoopPeer, r: MatchRequest, load: int, weeks: Weeks, free: int, roster: set[str], w: Weights
) -> float:
    p, prefs = lp.peer, r.preferences
    total = 0.0
    lang = prefs.languages
    if lang is not None and (lang.preferred or r.participant.interpreter_needed):
        total += w.language * (1.0 if p.languages & lang.values else 0.0)
    for weight, pref, tags in ((w.culture, prefs.cultures, p.cultures),
                               (w.lived_experience, prefs.lived_experience, p.lived_experience),
                               (w.pathway, prefs.pathways, p.pathways)):  # fmt: skip
        if (v := _pref_values(pref)) is not None:
            total += weight * (len(tags & v) / len(v))
    if (v := _pref_values(prefs.gender)) is not None:
        total += w.gender * (1.0 if p.gender in v else 0.0)
    if r.previous_peer_id in roster:
        total += w.continuity * (1.0 if p.peer_id == r.previous_peer_id else 0.0)
    shared = min((theirs & mine).bit_count() for theirs, mine in weeks)
    total += w.availability * (shared / free if free else 0.0)
    share = (p.capacity - load) / p.capacity if p.capacity > 0 else 0.0
    total += w.caseload_balance * min(1.0, max(0.0, share))
    if (v := _pref_values(prefs.modalities)) is not None:
        total += w.modality * (1.0 if meets_modality(p, v, r.participant.service_area) else 0.0)
    if (v := _pref_values(prefs.service_area)) is not None:
        total += w.service_area * (1.0 if p.service_area in v else 0.0)
    return total


Outcome = tuple[tuple[tuple[str, float], ...], str]  # (top k, emptying constraint or "")


def loop_shortlist(
    peers: list[LoopPeer], loads: dict[str, int], r: MatchRequest, w: Weights, horizon: timedelta = HORIZON
) -> Outcome:
    part = r.participant
    free = calendar_week(part.availability, part.time_zone, av.week_start(NOW)).bit_count()
    roster = {lp.peer.peer_id for lp in peers}
    scored, worst = [], 0
    for lp in peers:
        load = loads.get(lp.peer.peer_id, 0)
        weeks = pair_weeks(lp.peer, r, horizon)
        failed = first_failure(lp, r, r.excluded_peer_ids, load, weeks)
        if failed == len(HARD_CONSTRAINTS):
            scored.append((lp.peer.peer_id, loop_score(lp, r, load, weeks, free, roster, w)))
        worst = max(worst, failed)
    if not scored:
        return (), HARD_CONSTRAINTS[worst][0].value
    scored.sort(key=lambda t: (-t[1], t[0]))
    return tuple(scored[:K]), ""


# --- Timing and the table. ---


def engine_shortlist(index: RosterIndex, r: MatchRequest, w: Weights, horizon: timedelta = HORIZON) -> Outcome:
    result = shortlist(index, r, k=K, weights=w, now=NOW, horizon=horizon)
    if result.reason is not None:
        return (), result.reason.constraint
    return tuple((c.peer_id, c.score) for c in result.candidates), ""


def engine_core(index: RosterIndex, r: MatchRequest, w: Weights, horizon: timedelta = HORIZON) -> Outcome:
    q = compile_query(index, r, now=NOW, horizon=horizon)
    rows = np.flatnonzero(feasible(index, q))
    if rows.size == 0:
        return (), "?"
    total, _ = score(index, q, w, rows)
    best = top_k(total, K)
    pairs = zip(rows[best].tolist(), total[best].tolist(), strict=True)
    return tuple((index.peer_ids[i], s) for i, s in pairs), ""


def timed(
    run: Callable[[MatchRequest], Outcome], requests: list[MatchRequest], passes: int
) -> tuple[list[float], list[Outcome]]:
    """Per-request latency in µs, the best of ``passes`` cold passes (caches cleared)."""
    best = [float("inf")] * len(requests)
    outcomes: list[Outcome] = []
    for _ in range(passes):
        av.participant_week.cache_clear()
        av.slot_bits.cache_clear()
        av.plan_bits.cache_clear()
        outcomes = []
        for i, r in enumerate(requests):
            start = time.perf_counter_ns()
            outcomes.append(run(r))
            best[i] = min(best[i], (time.perf_counter_ns() - start) / 1000)
    return best, outcomes


def row(name: str, micros: list[float], goal: bool) -> str:
    q = statistics.quantiles(micros, n=100, method="inclusive")
    p50, p95, p99 = q[49], q[94], q[98]
    verdict = ("met" if p99 <= 1000 else "NOT met") if goal else "-"
    return f"{name:<42}{p50:>10.0f}{p95:>10.0f}{p99:>10.0f}{1e6 / statistics.fmean(micros):>10.0f}   {verdict}"


def main(argv: list[str] | None = None) -> int:
    global NOW  # every engine and the loop read the day of the requests from here
    parser = argparse.ArgumentParser(description="Online matching latency against a pure-Python loop.")
    parser.add_argument("--quick", action="store_true", help="100 requests instead of 1,000")
    parser.add_argument("--peers", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--passes", type=int, default=3, help="best of N passes per request (1 = raw)")
    parser.add_argument("--horizon-weeks", type=int, default=26, help="engagement horizon (0 = today's offsets only)")
    parser.add_argument("--start", default=f"{NOW:%Y-%m-%d}", help="the day of the requests (December: 3 regimes)")
    args = parser.parse_args(argv)
    NOW = datetime.combine(datetime.fromisoformat(args.start).date(), NOW.timetz())
    n_requests = args.requests or (100 if args.quick else 1000)
    rng = random.Random(args.seed)
    peers = [make_peer(rng, i) for i in range(args.peers)]
    loads = {p.peer_id: rng.randint(0, p.capacity) for p in peers}
    ids = [p.peer_id for p in peers]
    requests = [make_request(rng, i, ids) for i in range(n_requests)]
    w = Weights()
    index = RosterIndex(peers, loads)
    horizon, today = timedelta(weeks=args.horizon_weeks), timedelta(0)
    for span in (today, horizon):  # a service builds the weeks when it starts, off the request path
        index.prepare(NOW, horizon=span)
    loop_peers = [LoopPeer(p) for p in peers]
    for r in requests[:20]:  # warm-up
        engine_shortlist(index, r, w, horizon)
        engine_shortlist(index, r, w, today)
    full, got = timed(lambda r: engine_shortlist(index, r, w, horizon), requests, args.passes)
    core, _ = timed(lambda r: engine_core(index, r, w, horizon), requests, args.passes)
    full0, _ = timed(lambda r: engine_shortlist(index, r, w, today), requests, args.passes)
    core0, _ = timed(lambda r: engine_core(index, r, w, today), requests, args.passes)
    base, want = timed(lambda r: loop_shortlist(loop_peers, loads, r, w, horizon), requests, args.passes)
    mismatches = [r.request_id for r, a, b in zip(requests, got, want, strict=True) if a != b]
    waitlisted = sum(1 for _, why in got if why)
    stretches = max(len(index.engagement(NOW, z, horizon).stretches) for z in set(ZONES))  # the same for all
    print(f"Online matching, {len(peers)} peers, {n_requests} requests, top {K}, from {NOW:%Y-%m-%d}, "
          f"engagement horizon {args.horizon_weeks} weeks ({stretches} distinct weeks)")  # fmt: skip
    load = os.getloadavg()[0]
    print(f"latency per request = best of {args.passes} passes; load average {load:.2f} on {os.cpu_count()} CPUs")
    print(f"{'engine':<42}{'p50 µs':>10}{'p95 µs':>10}{'p99 µs':>10}{'req/s':>10}   goal p99 <= 1 ms")
    print(row(f"shortlist() with explanations, {args.horizon_weeks} wk", full, True))
    print(row(f"core (filter+score+top-k), {args.horizon_weeks} wk", core, True))
    print(row("shortlist() with explanations, today only", full0, True))
    print(row("core (filter+score+top-k), today only", core0, True))
    print(row(f"pure-Python per-peer loop, {args.horizon_weeks} wk", base, False))
    speedup = statistics.quantiles(base, n=100)[98] / statistics.quantiles(full, n=100)[98]
    print(f"p99 speed-up of shortlist() over the loop: {speedup:.0f}x")
    print(f"same top {K} (ids and scores) or same emptying constraint: {n_requests - len(mismatches)}/{n_requests}"
          f" ({waitlisted} waitlisted)")  # fmt: skip
    if mismatches:
        print(f"MISMATCH on {mismatches[:10]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
