"""Soft criteria names and the weights a programme can tune."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from enum import StrEnum

from alongside.kit.errors import InvalidArgument

MAX_WEIGHT = 100.0


class Criterion(StrEnum):
    LANGUAGE = "language"
    CULTURE = "culture"
    LIVED_EXPERIENCE = "lived_experience"
    PATHWAY = "pathway"
    GENDER = "gender"
    CONTINUITY = "continuity"
    AVAILABILITY = "availability"
    CASELOAD_BALANCE = "caseload_balance"
    MODALITY = "modality"
    SERVICE_AREA = "service_area"
    # Weighed only where the programme's policy lets a certification be preferred.
    CERTIFICATION = "certification"
    # Never weighed: the note on a candidate who serves the age band under a policy's condition.
    AGE_RULES = "age_rules"


@dataclass(frozen=True)
class Weights:
    """Points for a full match on each criterion (0-100 each).

    Defaults put a shared language first, then continuity with a previous
    peer, then culture, lived experience and recovery pathway, then gender.
    Availability and caseload balance separate otherwise equal peers.
    Modality and service area, usually required rather than preferred,
    weigh least. A certification weighs only where the programme's policy
    lets it be preferred (by default it can only be required, so weighs 0).
    """

    language: float = 3.0
    culture: float = 2.0
    lived_experience: float = 2.0
    pathway: float = 2.0
    gender: float = 1.5
    continuity: float = 2.5
    availability: float = 1.0
    caseload_balance: float = 1.0
    modality: float = 0.5
    service_area: float = 0.5
    # 0 while a certification can only be required (the built-in policy); a
    # policy that lets it be preferred weighs it (programme_policy).
    certification: float = 0.0
    _table: dict[str, float] = field(init=False, repr=False, compare=False, default_factory=dict)

    def __post_init__(self) -> None:
        for f in fields(self):
            if f.name.startswith("_"):
                continue
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise InvalidArgument(f"weights.{f.name}", "must be a number")
            if not 0.0 <= value <= MAX_WEIGHT:
                raise InvalidArgument(f"weights.{f.name}", f"must be between 0 and {MAX_WEIGHT:g}")
            self._table[f.name] = float(value)

    def of(self, criterion: str) -> float:
        """The weight of ``criterion``; 0 for one that is never weighted."""
        return self._table.get(criterion, 0.0)
