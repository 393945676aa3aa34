"""The dashboard's stored facts -> domain columns -> response, in one place.

Kept beside ``mappers`` so the figures' only way out is through these
functions: they copy counts, tags of groups of at least k and percentiles,
and nothing that names a person.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.kit.stats import StatsRange
from alongside.kit.stats_proto import BUCKETS_OUT, count_out, summary_out, ts_out, urgencies_out
from alongside.matcher.adapters.stats_facts import read_tags, tags_fact
from alongside.matcher.adapters.stats_reader import Facts
from alongside.matcher.domain.programme_stats import NEVER, IntakeFact, Intakes, ProgrammeStats

OPEN = {pb.REQUEST_STATUS_SHORTLISTED, pb.REQUEST_STATUS_WAITLISTED, pb.REQUEST_STATUS_PROPOSED}
NO_PEER: tuple[frozenset[str], frozenset[str]] = (frozenset(), frozenset())
NOTHING_STATED = tags_fact(pb.SubmitMatchRequestRequest()).encode()


URGENCY = {v: pb.Urgency.Name(v).removeprefix("URGENCY_") for v in pb.Urgency.values()}


def intakes_of(facts: Facts, peers: Mapping[str, pb.Peer], cohort: tuple[int, int] | None = None) -> Intakes:
    """The requests as columns, parsed in bulk (a year is thousands of them).

    Only requests made within ``cohort`` (ms, ms), when given, become the
    per-request objects equity needs. Left out: requests no longer open that
    never had a match (erased before one): when they stopped waiting is not
    stored.
    """
    ids = list(facts.requests)
    parts = b"|".join(facts.requests.values()).split(b"|") if ids else []
    if len(parts) != 4 * len(ids):
        raise ValueError("a request fact is malformed")
    accepted, peer_of = _matches(facts.matches)
    match_ids = parts[3::4]
    matched = np.fromiter((accepted.get(m, NEVER) for m in match_ids), dtype=np.int64, count=len(ids))
    status = np.fromiter(map(int, parts[2::4]), dtype=np.int64, count=len(ids))
    keep = (matched != NEVER) | np.isin(status, list(OPEN))
    created = np.fromiter(map(int, parts[0::4]), dtype=np.int64, count=len(ids))
    urgency = [URGENCY.get(int(u), "UNSPECIFIED") for u in parts[1::4]]
    peer_tags = {i: (frozenset(p.languages), frozenset(p.cultures)) for i, p in peers.items()}
    lo, hi = cohort if cohort is not None else (np.iinfo(np.int64).min, NEVER)
    kept = (keep & (created >= lo) & (created < hi)).tolist()
    stated = []
    for n, request_id in enumerate(ids):
        raw = facts.tags.get(request_id) if kept[n] else None
        if raw is None or raw == NOTHING_STATED:
            continue
        tags = read_tags(raw)
        if not tags.languages and not tags.cultures:
            continue
        languages, cultures = peer_tags.get(peer_of.get(match_ids[n], ""), NO_PEER)
        done = int(matched[n])
        stated.append(
            IntakeFact(
                created_ms=int(created[n]),
                urgency=urgency[n],
                matched_ms=None if done == NEVER else done,
                languages=tags.languages,
                languages_required=tags.languages_required,
                cultures=tags.cultures,
                cultures_required=tags.cultures_required,
                peer_languages=languages,
                peer_cultures=cultures,
            )
        )
    return Intakes(
        created[keep],
        matched[keep],
        [u for u, k in zip(urgency, keep.tolist(), strict=True) if k],
        (status == pb.REQUEST_STATUS_WAITLISTED)[keep],
        stated,
    )


def _matches(raws: Mapping[bytes, bytes]) -> tuple[dict[bytes, int], dict[bytes, str]]:
    """match id -> when it was accepted, and -> its peer (peer ids never hold "|")."""
    ids = list(raws)
    parts = b"|".join(raws.values()).split(b"|") if ids else []
    if len(parts) != 2 * len(ids):
        raise ValueError("a match fact is malformed")
    accepted = dict(zip(ids, map(int, parts[0::2]), strict=True))
    return accepted, dict(zip(ids, (p.decode() for p in parts[1::2]), strict=True))


def loads_of(peers: Mapping[str, pb.Peer], loads: Mapping[str, int]) -> list[tuple[int, int]]:
    """(capacity, load) of each active peer."""
    return [(p.capacity, loads.get(i, 0)) for i, p in peers.items() if p.status == pb.PEER_STATUS_ACTIVE]


def stats_out(stats: ProgrammeStats, rng: StatsRange, k: int) -> pb.GetProgrammeStatsResponse:
    out = pb.GetProgrammeStatsResponse(
        start=ts_out(rng.start_ms), end=ts_out(rng.end_ms), bucket=BUCKETS_OUT[rng.bucket], min_cell_size=k
    )
    for point in stats.waiting:
        out.waiting.add(
            bucket_start=ts_out(point.bucket_start_ms),
            waiting=count_out(point.waiting),
            age=summary_out(point.age),
            submitted=count_out(point.submitted),
            matched=count_out(point.matched),
        )
    out.waitlisted_now.CopyFrom(summary_out(stats.waitlisted_now))
    out.time_to_match.extend(urgencies_out(stats.time_to_match))
    c = stats.caseload
    out.caseload.active_peers, out.caseload.capacity_units, out.caseload.load_units = (
        c.active_peers,
        c.capacity_units,
        c.load_units,
    )
    for b in c.bins:
        out.caseload.bins.add(lower_percent=b.lower_percent, upper_percent=b.upper_percent, peers=count_out(b.peers))
    for g in stats.equity:
        out.equity.add(
            dimension=g.dimension,
            value=g.value,
            requests=g.requests,
            matched=count_out(g.matched),
            preference_met=count_out(g.preference_met),
            required=count_out(g.required),
            required_met=count_out(g.required_met),
            wait=summary_out(g.wait),
        )
    return out
