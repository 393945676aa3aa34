"""Protobuf <-> domain for the matcher.

Enum values arrive as integers; an unknown one (a newer client, or garbage)
is an INVALID_ARGUMENT naming the field, never a silent default.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import Any, TypeVar

from alongside.api.common.v1 import types_pb2
from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.kit.errors import InvalidArgument
from alongside.matcher.domain import model as m
from alongside.matcher.domain.phrases import Phrase
from alongside.matcher.domain.results import Candidate, Reason, Shortlist

E = TypeVar("E", bound=StrEnum)
_UNKNOWN = "is missing or not a known value"
_MONDAY, _SUNDAY = types_pb2.DAY_OF_WEEK_MONDAY, types_pb2.DAY_OF_WEEK_SUNDAY


@functools.cache
def _members(proto_enum: Any, domain: type[E]) -> dict[int, E]:
    """Proto number -> domain member, e.g. 3 -> PeerType.PEER_NAVIGATOR."""
    prefix = proto_enum.DESCRIPTOR.values[0].name.removesuffix("UNSPECIFIED")
    return {v.number: domain(v.name.removeprefix(prefix)) for v in proto_enum.DESCRIPTOR.values if v.number}


def enum_in(field: str, value: int, proto_enum: Any, domain: type[E], *, optional: bool = False) -> E | None:
    """Proto enum int -> domain enum; UNSPECIFIED -> None when optional."""
    if value == 0 and optional:
        return None
    member: E | None = _members(proto_enum, domain).get(value)
    if member is None:
        raise InvalidArgument(field, _UNKNOWN)
    return member


def enum_out(proto_enum: Any, value: StrEnum) -> Any:
    """Domain enum -> proto enum number (typed Any: the stubs want enum wrappers)."""
    prefix = proto_enum.DESCRIPTOR.values[0].name.removesuffix("UNSPECIFIED")
    return int(proto_enum.Value(prefix + value.value))


def enums_in(field: str, values: Iterable[int], proto_enum: Any, domain: type[E]) -> frozenset[E]:
    members = _members(proto_enum, domain)
    out = set()
    for i, value in enumerate(values):
        member = members.get(value)
        if member is None:
            raise InvalidArgument(f"{field}[{i}]", _UNKNOWN)
        out.add(member)
    return frozenset(out)


def windows_in(field: str, windows: Sequence[types_pb2.WeeklyWindow]) -> tuple[m.WeeklyWindow, ...]:
    out = []
    for i, w in enumerate(windows):
        day = w.day
        if not _MONDAY <= day <= _SUNDAY:
            raise InvalidArgument(f"{field}[{i}].day", "must be a day of the week")
        out.append(m.WeeklyWindow(day - 1, w.start_minute, w.end_minute))
    return tuple(out)


def windows_out(windows: Iterable[m.WeeklyWindow]) -> list[types_pb2.WeeklyWindow]:
    days: list[Any] = list(range(1, 8))  # proto DayOfWeek numbers, Monday = 1
    return [
        types_pb2.WeeklyWindow(day=days[w.day], start_minute=w.start_minute, end_minute=w.end_minute) for w in windows
    ]


def peer_in(p: pb.Peer, field: str = "peer") -> m.Peer:
    status = enum_in(f"{field}.status", p.status, pb.PeerStatus, m.PeerStatus, optional=True)
    return m.Peer(
        peer_id=p.peer_id,
        display_name=p.display_name,
        types=enums_in(f"{field}.types", p.types, pb.PeerType, m.PeerType),
        certifications=frozenset(p.certifications),
        languages=frozenset(p.languages),
        cultures=frozenset(p.cultures),
        gender=p.gender,
        lived_experience=frozenset(p.lived_experience),
        pathways=frozenset(p.pathways),
        modalities=enums_in(f"{field}.modalities", p.modalities, pb.Modality, m.Modality),
        service_area=p.service_area,
        age_groups=enums_in(f"{field}.age_groups", p.age_groups, pb.AgeBand, m.AgeBand),
        time_zone=p.time_zone,
        availability=windows_in(f"{field}.availability", p.availability),
        capacity=p.capacity,
        status=status or m.PeerStatus.ACTIVE,
        supervisor_id=p.supervisor_id,
    )


def peer_out(p: m.Peer, *, load: int = 0, version: int = 0) -> pb.Peer:
    return pb.Peer(
        peer_id=p.peer_id,
        display_name=p.display_name,
        types=sorted(enum_out(pb.PeerType, t) for t in p.types),
        certifications=sorted(p.certifications),
        languages=sorted(p.languages),
        cultures=sorted(p.cultures),
        gender=p.gender,
        lived_experience=sorted(p.lived_experience),
        pathways=sorted(p.pathways),
        modalities=sorted(enum_out(pb.Modality, x) for x in p.modalities),
        service_area=p.service_area,
        age_groups=sorted(enum_out(pb.AgeBand, a) for a in p.age_groups),
        time_zone=p.time_zone,
        availability=windows_out(p.availability),
        capacity=p.capacity,
        status=enum_out(pb.PeerStatus, p.status),
        supervisor_id=p.supervisor_id,
        load=load,
        version=version,
    )


def _preference(name: str, pref: Any, modality: bool = False) -> m.Preference | None:
    if not pref.values:
        return None
    field = f"preferences.{name}"
    strength = enum_in(f"{field}.strength", pref.strength, pb.Strength, m.Strength)
    assert strength is not None
    if modality:
        values = frozenset(v.value for v in enums_in(f"{field}.values", pref.values, pb.Modality, m.Modality))
    else:
        values = frozenset(pref.values)
    return m.Preference(values, strength)


def preferences_in(p: pb.Preferences) -> m.Preferences:
    return m.Preferences(
        languages=_preference("languages", p.languages),
        gender=_preference("gender", p.gender),
        cultures=_preference("cultures", p.cultures),
        lived_experience=_preference("lived_experience", p.lived_experience),
        pathways=_preference("pathways", p.pathways),
        modalities=_preference("modalities", p.modalities, modality=True),
        service_area=_preference("service_area", p.service_area),
        certifications=_preference("certifications", p.certifications),
    )


def request_in(request_id: str, r: pb.SubmitMatchRequestRequest) -> m.MatchRequest:
    part = r.participant
    age = enum_in("participant.age_band", part.age_band, pb.AgeBand, m.AgeBand)
    assert age is not None
    urgency = enum_in("urgency", r.urgency, pb.Urgency, m.Urgency, optional=True) or m.Urgency.ROUTINE
    return m.MatchRequest(
        request_id=request_id,
        participant=m.Participant(
            participant_ref=part.participant_ref,
            age_band=age,
            time_zone=part.time_zone,
            availability=windows_in("participant.availability", part.availability),
            interpreter_needed=part.interpreter_needed,
            service_area=part.service_area,
        ),
        peer_types=enums_in("peer_types", r.peer_types, pb.PeerType, m.PeerType),
        preferences=preferences_in(r.preferences),
        urgency=urgency,
        acuity=r.acuity,
        previous_peer_id=r.previous_peer_id,
        excluded_peer_ids=frozenset(r.excluded_peer_ids),
        session_minutes=r.session_minutes or 60,
    )


def _fill_candidate(out: pb.Candidate, c: Candidate) -> None:
    # Filled in place: a message passed to a constructor, extend() or CopyFrom() is copied.
    out.peer_id = c.peer_id
    out.score = round(c.score, 4)
    add = out.contributions.add
    for x in c.contributions:
        made = add(criterion=x.criterion, points=round(x.points, 4), max_points=x.max_points, text=x.text)
        if x.phrase is not None:
            made.phrase.CopyFrom(phrase_out(x.phrase))


def _fill_reason(out: pb.WaitlistReason, reason: Reason) -> None:
    out.summary = reason.summary
    if reason.summary_phrase is not None:
        out.summary_phrase.CopyFrom(phrase_out(reason.summary_phrase))
    add = out.funnel.add
    for c in reason.funnel:
        step = add(constraint=c.constraint, remaining=c.remaining, of=c.of, text=c.text)
        if c.phrase is not None:
            step.phrase.CopyFrom(phrase_out(c.phrase))


def phrase_out(phrase: Phrase) -> pb.Phrase:
    out = pb.Phrase(template=phrase.template)
    for a in phrase.args:
        arg = out.args.add(name=a.name, values=a.values, kind=a.kind, joiner=a.joiner)
        if a.phrase is not None:
            arg.phrase.CopyFrom(phrase_out(a.phrase))
    return out


def apply_shortlist(state: pb.MatchRequest, result: Shortlist, policy_digest: str = "") -> None:
    """Write a fresh shortlist (or the waiting-list reason) into ``state``, with the policy it was made under."""
    state.policy_digest = policy_digest
    del state.candidates[:]
    state.ClearField("waitlist_reason")
    if result.candidates:
        state.status = pb.REQUEST_STATUS_SHORTLISTED
        for c in result.candidates:
            _fill_candidate(state.candidates.add(), c)
    else:
        state.status = pb.REQUEST_STATUS_WAITLISTED
        if result.reason is not None:
            _fill_reason(state.waitlist_reason, result.reason)


def _preference_out(pref: m.Preference | None, modality: bool = False) -> Any:
    if pref is None:
        return None
    strength = enum_out(pb.Strength, pref.strength)
    if modality:
        return pb.ModalityPreference(
            values=sorted(enum_out(pb.Modality, m.Modality(v)) for v in pref.values), strength=strength
        )
    return pb.Preference(values=sorted(pref.values), strength=strength)


def request_out(r: m.MatchRequest, idempotency_key: str) -> pb.SubmitMatchRequestRequest:
    """Domain request -> the RPC that submits it (for clients, demos and benchmarks)."""
    p = r.preferences
    return pb.SubmitMatchRequestRequest(
        idempotency_key=idempotency_key,
        participant=pb.Participant(
            participant_ref=r.participant.participant_ref,
            age_band=enum_out(pb.AgeBand, r.participant.age_band),
            time_zone=r.participant.time_zone,
            availability=windows_out(r.participant.availability),
            interpreter_needed=r.participant.interpreter_needed,
            service_area=r.participant.service_area,
        ),
        peer_types=sorted(enum_out(pb.PeerType, t) for t in r.peer_types),
        preferences=pb.Preferences(
            languages=_preference_out(p.languages),
            gender=_preference_out(p.gender),
            cultures=_preference_out(p.cultures),
            lived_experience=_preference_out(p.lived_experience),
            pathways=_preference_out(p.pathways),
            modalities=_preference_out(p.modalities, modality=True),
            service_area=_preference_out(p.service_area),
            certifications=_preference_out(p.certifications),
        ),
        urgency=enum_out(pb.Urgency, r.urgency),
        acuity=r.acuity,
        previous_peer_id=r.previous_peer_id,
        excluded_peer_ids=sorted(r.excluded_peer_ids),
        session_minutes=r.session_minutes,
    )
