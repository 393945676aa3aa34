"""The dashboard's compact copy of each request and match (docs/dashboard.md).

Written by ``MatcherStore`` in the same transaction as the record itself,
so it never drifts from it; read by ``StatsReader`` in one round trip
instead of parsing every stored request (which took most of a second for a
year of a 500-peer programme: docs/benchmarks.md). Dates, codes and ids
only; the stated languages and cultures, which say something about a
person, are kept apart and deleted on erasure.
"""

from __future__ import annotations

from dataclasses import dataclass

from alongside.api.matcher.v1 import matcher_pb2 as pb

FIELD = "\x1f"  # never in a tag: tags are printable
ITEM = "\x1e"


@dataclass(frozen=True, slots=True)
class RequestFact:
    created_ms: int
    urgency: int
    status: int
    match_id: str


@dataclass(frozen=True, slots=True)
class Tags:
    languages: frozenset[str]
    languages_required: bool
    cultures: frozenset[str]
    cultures_required: bool


def request_fact(state: pb.MatchRequest) -> str:
    return f"{state.created_at.ToMilliseconds()}|{state.urgency}|{state.status}|{state.match_id}"


def read_request(raw: bytes) -> RequestFact:
    created, urgency, status, match_id = raw.decode().split("|", 3)
    return RequestFact(int(created), int(urgency), int(status), match_id)


def tags_fact(submitted: pb.SubmitMatchRequestRequest) -> str:
    prefs = submitted.preferences
    parts = (
        ITEM.join(sorted({v.lower() for v in prefs.languages.values})),
        "1" if prefs.languages.strength == pb.STRENGTH_REQUIRED else "0",
        ITEM.join(sorted({v.lower() for v in prefs.cultures.values})),
        "1" if prefs.cultures.strength == pb.STRENGTH_REQUIRED else "0",
    )
    return FIELD.join(parts)


def read_tags(raw: bytes) -> Tags:
    languages, lreq, cultures, creq = raw.decode().split(FIELD)
    return Tags(_items(languages), lreq == "1", _items(cultures), creq == "1")


def match_fact(match: pb.Match) -> str:
    return f"{match.accepted_at.ToMilliseconds()}|{match.peer_id}"


def read_match(raw: bytes) -> tuple[int, str]:
    accepted, peer_id = raw.decode().split("|", 1)
    return int(accepted), peer_id


def _items(text: str) -> frozenset[str]:
    return frozenset(text.split(ITEM)) if text else frozenset()
