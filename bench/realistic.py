"""Realistic, clustered batch-matching instances (the model is described in ``docs/benchmarks.md``).

Real rosters are not uniform: languages follow communities, counties bind
in-person work, time zones mix (Phoenix keeps no daylight time), availability
follows a few templates, capacities carry existing loads, and acuity runs
1-3. ``realistic_instance(peers, requests, seed)`` builds a ``BatchProblem``
shaped as the matcher's batch use case builds it: ``profit = fit + priority``
with the default soft weights, ``unmatched_penalty = priority``,
``load = acuity`` (per participant) and ``capacity = capacity - load``.
Rows are requests, columns peers. Deterministic per seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from alongside.matcher.domain.solver import BatchProblem

BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]

# UTC offsets in December (hours). Phoenix is Mountain time without DST.
ZONES = {"America/New_York": -5, "America/Chicago": -6, "America/Denver": -7, "America/Phoenix": -7,
         "America/Los_Angeles": -8}  # fmt: skip
ZONE_OFFSET = np.array(list(ZONES.values()), dtype=np.int64)
LANGUAGES = ("English", "Spanish", "Vietnamese", "Somali", "Navajo", "Hmong", "Arabic", "ASL")
# (primary language, zone index, share of participants, share of peers): peers are scarcer where it hurts.
COMMUNITIES = (
    (0, 0, 0.22, 0.26), (1, 1, 0.14, 0.11), (0, 1, 0.10, 0.12), (1, 3, 0.10, 0.08), (4, 3, 0.05, 0.03),
    (2, 4, 0.06, 0.05), (0, 4, 0.10, 0.13), (3, 1, 0.05, 0.03), (5, 1, 0.04, 0.03), (6, 0, 0.05, 0.05),
    (7, 2, 0.03, 0.02), (0, 2, 0.06, 0.09),
)  # fmt: skip
COUNTIES_PER_COMMUNITY = 3
# Weekly availability templates in local hours: (days, first hour, last hour), unions of runs.
TEMPLATES: tuple[tuple[tuple[range, int, int], ...], ...] = (
    ((range(0, 5), 8, 12),),  # weekday mornings
    ((range(0, 5), 12, 17),),  # weekday afternoons
    ((range(0, 5), 17, 21),),  # weekday evenings
    ((range(5, 7), 9, 17),),  # weekends
    ((range(0, 5), 9, 17),),  # office hours
    ((range(0, 5), 7, 9), (range(0, 5), 18, 20)),  # around a working day
)
PEER_TEMPLATE_MIX = (0.15, 0.15, 0.15, 0.05, 0.4, 0.1)
REQUEST_TEMPLATE_MIX = (0.15, 0.1, 0.35, 0.15, 0.1, 0.15)
SESSION_HOURS = 1
ACUITY_MIX = (0.5, 0.35, 0.15)  # acuity 1, 2, 3
URGENCY_MIX = (0.7, 0.2, 0.1)  # routine, priority, urgent (rank 0, 1, 2)
URGENCY_WEIGHT, WAIT_WEIGHT_PER_WEEK = 5.0, 1.0  # the service's defaults
# Default soft weights (domain/weights.py).
W_LANGUAGE, W_CULTURE, W_LIVED, W_PATHWAY, W_GENDER = 3.0, 2.0, 2.0, 2.0, 1.5
W_AVAILABILITY, W_BALANCE, W_MODALITY, W_AREA = 1.0, 1.0, 0.5, 0.5


@dataclass(frozen=True)
class People:
    community: IntArray
    county: IntArray
    zone: IntArray
    template: IntArray
    languages: BoolArray  # (k, languages)
    gender: IntArray
    pathway: IntArray


def realistic_instance(peers: int, requests: int, *, seed: int) -> BatchProblem:
    """A clustered instance of ``requests`` x ``peers``; see the module docstring."""
    rng = np.random.default_rng(seed)
    p = _people(rng, peers, peer=True)
    r = _people(rng, requests, peer=False)
    in_person = rng.random(requests) < 0.35
    offers_in_person = rng.random(peers) < 0.7
    needs_language = (rng.random(requests) < 0.6) & ~r.languages[:, 0]  # required unless English
    wants_gender = rng.random(requests) < 0.3
    wants_lived = rng.random(requests) < 0.5
    lived = rng.random(peers) < 0.6
    feasible = _feasible(rng, p, r, in_person, offers_in_person, needs_language)
    acuity = rng.choice(np.arange(1, 4), requests, p=ACUITY_MIX).astype(np.int64)
    total = rng.choice(np.array([6, 8, 10, 12]), peers, p=(0.2, 0.35, 0.3, 0.15)).astype(np.int64)
    # Existing caseloads: most peers are fairly full, some are new and empty, some are full.
    load = np.minimum(total, np.rint(total * rng.beta(4, 2, peers)).astype(np.int64))
    load[rng.random(peers) < 0.08] = 0
    capacity = total - load
    fit = _fit(p, r, wants_gender, wants_lived, lived, in_person, offers_in_person, load / total)
    urgency = rng.choice(np.arange(3), requests, p=URGENCY_MIX).astype(np.float64)
    waited = np.minimum(rng.exponential(3.0, requests), 26.0)
    priority = URGENCY_WEIGHT * urgency + WAIT_WEIGHT_PER_WEEK * np.round(waited, 1)
    return BatchProblem(
        profit=np.where(feasible, fit + priority[:, None], 0.0),
        feasible=feasible,
        load=acuity,
        capacity=capacity,
        unmatched_penalty=priority,
    )


def _people(rng: np.random.Generator, k: int, *, peer: bool) -> People:
    share = np.array([c[3 if peer else 2] for c in COMMUNITIES])
    community = rng.choice(len(COMMUNITIES), k, p=share / share.sum()).astype(np.int64)
    primary = np.array([c[0] for c in COMMUNITIES])[community]
    # Mostly the community's counties; a few live elsewhere in the same zone.
    county = community * COUNTIES_PER_COMMUNITY + rng.integers(0, COUNTIES_PER_COMMUNITY, k)
    zone = np.array([c[1] for c in COMMUNITIES])[community]
    languages = np.zeros((k, len(LANGUAGES)), dtype=np.bool_)
    languages[np.arange(k), primary] = True
    # Bilingual: most non-English speakers also speak English (peers more often than participants).
    languages[:, 0] |= rng.random(k) < (0.85 if peer else 0.4)
    languages[np.arange(k), rng.integers(0, len(LANGUAGES), k)] |= rng.random(k) < 0.1
    mix = PEER_TEMPLATE_MIX if peer else REQUEST_TEMPLATE_MIX
    template = rng.choice(len(TEMPLATES), k, p=mix).astype(np.int64)
    gender = rng.choice(np.arange(3), k, p=(0.48, 0.48, 0.04)).astype(np.int64)
    pathway = rng.integers(0, 4, k).astype(np.int64)
    return People(community, county, zone, template, languages, gender, pathway)


def _feasible(
    rng: np.random.Generator, p: People, r: People, in_person: BoolArray, offers: BoolArray, needs: BoolArray
) -> BoolArray:
    n, m = r.community.size, p.community.size
    ok = _overlap_table()[r.template[:, None], r.zone[:, None], p.template[None, :], p.zone[None, :]]
    primary = np.array([c[0] for c in COMMUNITIES])[r.community]
    ok &= ~needs[:, None] | p.languages[:, primary].T
    ok &= ~in_person[:, None] | ((r.county[:, None] == p.county[None, :]) & offers[None, :])
    # Declined (0-2 per request, among the peers it could have had) and excluded pairs (conflicts of interest).
    declined = rng.integers(0, 3, n)
    for i in np.flatnonzero(declined):
        options = np.flatnonzero(ok[i])
        if options.size:
            ok[i, rng.choice(options, min(int(declined[i]), options.size), replace=False)] = False
    ok &= rng.random((n, m)) >= 0.01
    return ok


def _overlap_table() -> BoolArray:
    """[template a, zone a, template b, zone b]: a common run of ``SESSION_HOURS`` exists in UTC."""
    week = np.zeros((len(TEMPLATES), len(ZONES), 168), dtype=np.bool_)
    for t, runs in enumerate(TEMPLATES):
        for days, first, last in runs:
            for d in days:
                for z, offset in enumerate(ZONE_OFFSET):
                    hours = (np.arange(24 * d + first, 24 * d + last) - offset) % 168
                    week[t, z, hours] = True
    both = week[:, :, None, None, :] & week[None, None, :, :, :]
    return np.asarray(both.any(axis=-1)) if SESSION_HOURS == 1 else _runs(both)


def _runs(both: BoolArray) -> BoolArray:
    run = both.copy()
    for shift in range(1, SESSION_HOURS):
        run &= np.roll(both, -shift, axis=-1)
    return np.asarray(run.any(axis=-1))


def _fit(
    p: People,
    r: People,
    wants_gender: BoolArray,
    wants_lived: BoolArray,
    lived: BoolArray,
    in_person: BoolArray,
    offers: BoolArray,
    utilisation: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Weighted soft terms, each in [0, 1], as ``domain/scoring.py`` adds them."""
    primary = np.array([c[0] for c in COMMUNITIES])[r.community]
    fit = W_LANGUAGE * p.languages[:, primary].T
    fit = fit + W_CULTURE * (r.community[:, None] == p.community[None, :])
    fit = fit + W_LIVED * (wants_lived[:, None] & lived[None, :])
    fit = fit + W_PATHWAY * (r.pathway[:, None] == p.pathway[None, :])
    fit = fit + W_GENDER * (wants_gender[:, None] & (r.gender[:, None] == p.gender[None, :]))
    fit = fit + W_AVAILABILITY * (r.zone[:, None] == p.zone[None, :])
    fit = fit + W_BALANCE * (1.0 - utilisation)[None, :]
    fit = fit + W_MODALITY * (~in_person[:, None] | offers[None, :])
    fit = fit + W_AREA * (r.county[:, None] == p.county[None, :])
    return np.asarray(fit, dtype=np.float64)
