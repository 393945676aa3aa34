"""The dashboard's stored protobufs -> domain facts -> response, in one place.

Kept beside ``mappers`` so the figures' only way out is through these
functions: they copy counts, tags of groups of at least k and percentiles,
and nothing that names a person.
"""

from __future__ import annotations

from collections.abc import Mapping

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.kit.stats import StatsRange
from alongside.kit.stats_proto import BUCKETS_OUT, count_out, summary_out, ts_out, urgencies_out
from alongside.matcher.adapters.stats_facts import Tags
from alongside.matcher.adapters.stats_reader import Facts
from alongside.matcher.domain.programme_stats import IntakeFact, ProgrammeStats

OPEN = {pb.REQUEST_STATUS_SHORTLISTED, pb.REQUEST_STATUS_WAITLISTED, pb.REQUEST_STATUS_PROPOSED}
NO_TAGS = Tags(frozenset(), False, frozenset(), False)


def urgency_name(value: int) -> str:
    return pb.Urgency.Name(value).removeprefix("URGENCY_") if value in pb.Urgency.values() else "UNSPECIFIED"


def intake_facts(facts: Facts, peers: Mapping[str, pb.Peer]) -> list[IntakeFact]:
    """One fact per request whose waiting is known to have ended or to go on.

    Left out: requests no longer open that never had a match (erased before
    one): when they stopped waiting is not stored.
    """
    out = []
    for request_id, r in facts.requests.items():
        match = facts.matches.get(r.match_id) if r.match_id else None
        if match is None and r.status not in OPEN:
            continue
        peer = peers.get(match[1]) if match is not None else None
        tags = facts.tags.get(request_id, NO_TAGS)
        out.append(
            IntakeFact(
                created_ms=r.created_ms,
                urgency=urgency_name(r.urgency),
                matched_ms=match[0] if match is not None else None,
                waitlisted=r.status == pb.REQUEST_STATUS_WAITLISTED,
                languages=tags.languages,
                languages_required=tags.languages_required,
                cultures=tags.cultures,
                cultures_required=tags.cultures_required,
                peer_languages=frozenset(peer.languages) if peer is not None else frozenset(),
                peer_cultures=frozenset(peer.cultures) if peer is not None else frozenset(),
            )
        )
    return out


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
