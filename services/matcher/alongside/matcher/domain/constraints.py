"""Hard constraints: a peer is feasible for a request only if every one holds.

Each constraint is one function ``(index, query) -> mask`` over all peers at
once, or ``None`` when the request asks nothing of it (every peer passes).
``HARD_CONSTRAINTS`` lists them in funnel order: the waiting-list reason
counts how many peers survive each step, in this order. Masks may be
read-only views into the index; combine them, never write into them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import StrEnum
from typing import cast

import numpy as np

from alongside.matcher.domain.availability import BoolArray, session_slots
from alongside.matcher.domain.model import AgeBand, Modality, PeerType, Preference
from alongside.matcher.domain.programme_policy import DEFAULT_POLICY, ProgrammePolicy
from alongside.matcher.domain.query import Query
from alongside.matcher.domain.roster_index import RosterIndex


class Constraint(StrEnum):
    STATUS = "status"
    PEER_TYPE = "peer_type"
    NOT_EXCLUDED = "not_excluded"
    AGE_RULES = "age_rules"
    LANGUAGE = "language"
    GENDER = "gender"
    CERTIFICATION = "certification"
    CULTURE = "culture"
    LIVED_EXPERIENCE = "lived_experience"
    PATHWAY = "pathway"
    SERVICE_AREA = "service_area"
    MODALITY = "modality"
    AVAILABILITY = "availability"
    CAPACITY = "capacity"


Check = Callable[[RosterIndex, Query], BoolArray | None]
_ANY_MODALITY = frozenset(Modality)


def status_active(ix: RosterIndex, q: Query) -> BoolArray | None:
    """Only ACTIVE peers take participants (not ON_LEAVE, not INACTIVE)."""
    return cast(BoolArray, ix.active)


def peer_type_requested(ix: RosterIndex, q: Query) -> BoolArray | None:
    """The peer has at least one of the requested peer types."""
    return ix.types.any_of(q.request.peer_types)


def not_excluded(ix: RosterIndex, q: Query) -> BoolArray | None:
    """Conflict-of-interest exclusions and peers already declined are out."""
    positions = [ix.positions[p] for p in q.blocked if p in ix.positions]
    if not positions:
        return None
    mask = np.ones(len(ix), dtype=np.bool_)
    mask[positions] = False
    return mask


def type_serves_age(peer_type: PeerType, age: AgeBand, policy: ProgrammePolicy = DEFAULT_POLICY) -> bool:
    """Whether the programme lets ``peer_type`` serve ``age`` without a certification.

    By default youth peers serve only youth and young adults, and minors get
    youth or family peers (``programme_policy.DEFAULT_AGE_RULES``).
    """
    return policy.serves(peer_type, age)


def age_rules(ix: RosterIndex, q: Query) -> BoolArray | None:
    """The peer serves the participant's age band in some requested type the policy allows for it,
    holding a certification where the policy asks for one."""
    age = q.request.participant.age_band
    key = ("age_rules", age, q.request.peer_types, q.policy.age_rules)
    mask = ix.derived.get(key)
    if mask is None:
        allowed = [t for t in q.request.peer_types if type_serves_age(t, age, q.policy)]
        mask = ix.types.any_of(allowed)
        for peer_type in sorted(q.request.peer_types):
            needed = q.policy.serves_with(peer_type, age)
            if needed:
                mask = mask | (ix.types.any_of([peer_type]) & ix.certifications.any_of(needed))
        mask = ix.age_groups.any_of([age]) & mask
        ix.remember(key, mask)
    return mask


def required_language(ix: RosterIndex, q: Query) -> BoolArray | None:
    """Speaks one of the required languages, unless an interpreter is needed."""
    pref = q.required_language
    return None if pref is None else ix.languages.any_of(pref.values)


def _required(pref: Preference | None) -> Iterable[str] | None:
    return pref.values if pref is not None and pref.required else None


def required_gender(ix: RosterIndex, q: Query) -> BoolArray | None:
    """The peer's gender is one of the required ones."""
    values = _required(q.request.preferences.gender)
    return None if values is None else ix.genders.any_of(values)


def required_certification(ix: RosterIndex, q: Query) -> BoolArray | None:
    """The peer holds at least one of the required certifications."""
    values = _required(q.request.preferences.certifications)
    return None if values is None else ix.certifications.any_of(values)


def required_culture(ix: RosterIndex, q: Query) -> BoolArray | None:
    """The peer shares at least one of the required cultural identities."""
    values = _required(q.request.preferences.cultures)
    return None if values is None else ix.cultures.any_of(values)


def required_lived_experience(ix: RosterIndex, q: Query) -> BoolArray | None:
    """The peer has lived experience in every one of the required areas."""
    values = _required(q.request.preferences.lived_experience)
    return None if values is None else ix.lived_experience.all_of(values)


def required_pathway(ix: RosterIndex, q: Query) -> BoolArray | None:
    """The peer knows at least one of the required recovery pathways."""
    values = _required(q.request.preferences.pathways)
    return None if values is None else ix.pathways.any_of(values)


def required_service_area(ix: RosterIndex, q: Query) -> BoolArray | None:
    """The peer works in one of the required service areas."""
    values = _required(q.request.preferences.service_area)
    return None if values is None else ix.service_areas.any_of(values)


def offers_modalities(ix: RosterIndex, wanted: Iterable[str], area: str) -> BoolArray:
    """Peers offering one of ``wanted``; in person counts only within ``area``."""
    kinds = frozenset(wanted)
    key = ("modalities", kinds, area)
    mask = ix.derived.get(key)
    if mask is None:
        mask = ix.modalities.any_of(kinds - {Modality.IN_PERSON})
        if Modality.IN_PERSON in kinds and area:
            nearby = ix.modalities.any_of([Modality.IN_PERSON]) & ix.service_areas.any_of([area])
            mask = mask | nearby
        ix.remember(key, mask)
    return mask


def modality_compatible(ix: RosterIndex, q: Query) -> BoolArray | None:
    """A shared way to meet: the required modalities, or any when none is required."""
    values = _required(q.request.preferences.modalities)
    wanted = _ANY_MODALITY if values is None else values
    return offers_modalities(ix, wanted, q.request.participant.service_area)


def availability_overlap(ix: RosterIndex, q: Query) -> BoolArray | None:
    """Both are free for one whole session, in one stretch, every week of the engagement.

    One AND per regime (a stretch of the horizon with no clock change in
    either zone): a pair that overlaps in December but not after March fails.
    """
    length = session_slots(q.request.session_minutes)
    mask: BoolArray | None = None
    for stretch, mine in zip(q.stretches, q.mines, strict=True):
        runs = stretch.week.run_words(length)
        # Only the participant's non-empty words can overlap; most weeks use few.
        here = cast(BoolArray, (runs[mine.run_used] & mine.run_words).any(axis=0))
        mask = here if mask is None else mask & here
    return mask


def capacity_left(ix: RosterIndex, q: Query) -> BoolArray | None:
    """Free capacity (capacity minus load, holds included) covers the acuity."""
    return q.free >= q.request.acuity


HARD_CONSTRAINTS: tuple[tuple[Constraint, Check], ...] = (
    (Constraint.STATUS, status_active),
    (Constraint.PEER_TYPE, peer_type_requested),
    (Constraint.NOT_EXCLUDED, not_excluded),
    (Constraint.AGE_RULES, age_rules),
    (Constraint.LANGUAGE, required_language),
    (Constraint.GENDER, required_gender),
    (Constraint.CERTIFICATION, required_certification),
    (Constraint.CULTURE, required_culture),
    (Constraint.LIVED_EXPERIENCE, required_lived_experience),
    (Constraint.PATHWAY, required_pathway),
    (Constraint.SERVICE_AREA, required_service_area),
    (Constraint.MODALITY, modality_compatible),
    (Constraint.AVAILABILITY, availability_overlap),
    (Constraint.CAPACITY, capacity_left),
)
