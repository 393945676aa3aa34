"""Programme policy: the matching rules that differ between programmes.

Which peer types may serve which age bands (some only with a certification),
which strengths a certification preference may take, the soft weights and
the batch's weights for urgency and time waited. ``DEFAULT_POLICY`` is the
behaviour every programme had before policies existed; a programme's policy
document (``policy_document``) starts from it and replaces what it names.

Pure data: the engine reads it through the query, the batch through the
context; nothing here reads a file.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import numpy.typing as npt

from alongside.matcher.domain.model import AgeBand, PeerType, Strength
from alongside.matcher.domain.weights import Weights

FloatArray = npt.NDArray[np.float64]
_ADULTS = frozenset({AgeBand.YOUNG_ADULT, AgeBand.ADULT, AgeBand.OLDER_ADULT})


@dataclass(frozen=True)
class AgeRule:
    """``peer_type`` may serve ``age_bands``; with ``certifications``, only a peer holding one of them."""

    peer_type: PeerType
    age_bands: frozenset[AgeBand]
    certifications: frozenset[str] = frozenset()

    @property
    def conditional(self) -> bool:
        return bool(self.certifications)


# Minors get youth or family peers; youth peers serve youth and young adults;
# family peers serve every age; the other types serve adults.
DEFAULT_AGE_RULES: tuple[AgeRule, ...] = (
    AgeRule(PeerType.RECOVERY_COACH, _ADULTS),
    AgeRule(PeerType.PEER_SPECIALIST, _ADULTS),
    AgeRule(PeerType.PEER_NAVIGATOR, _ADULTS),
    AgeRule(PeerType.YOUTH_PEER, frozenset({AgeBand.YOUTH, AgeBand.YOUNG_ADULT})),
    AgeRule(PeerType.FAMILY_PEER, frozenset(AgeBand)),
)


@dataclass(frozen=True)
class BatchWeights:
    """Priority of a waiting request in a batch: ``urgency`` per urgency step
    (routine 0, priority 1, urgent 2) plus ``wait_per_week`` per week waited,
    against fit scores of about 0-15."""

    urgency: float = 5.0
    wait_per_week: float = 1.0

    def priority(self, urgency_ranks: Sequence[float], waited_weeks: Sequence[float]) -> FloatArray:
        """Each request's priority: its urgency rank and weeks waited (negative counts as 0), weighed."""
        ranks = np.asarray(urgency_ranks, dtype=np.float64)
        weeks = np.maximum(np.asarray(waited_weeks, dtype=np.float64), 0.0)
        return self.urgency * ranks + self.wait_per_week * weeks


@dataclass(frozen=True)
class ProgrammePolicy:
    programme: str = "default"
    age_rules: tuple[AgeRule, ...] = DEFAULT_AGE_RULES
    certification_strengths: frozenset[Strength] = frozenset({Strength.REQUIRED})
    weights: Weights = field(default_factory=Weights)
    batch: BatchWeights = BatchWeights()
    # Where it came from ("built in" or the document's path): shown, never hashed.
    source: str = field(default="built in", compare=False)

    def __post_init__(self) -> None:
        # One order for the same rules, so equal policies compare (and hash) equal.
        object.__setattr__(self, "age_rules", tuple(ordered_rules(self.age_rules)))

    def rules_for(self, peer_type: PeerType, age: AgeBand) -> tuple[AgeRule, ...]:
        """The rules that let ``peer_type`` serve ``age``."""
        return tuple(r for r in self.age_rules if r.peer_type == peer_type and age in r.age_bands)

    def serves(self, peer_type: PeerType, age: AgeBand) -> bool:
        """``peer_type`` serves ``age`` whatever certifications the peer holds."""
        return any(not r.conditional for r in self.rules_for(peer_type, age))

    def serves_with(self, peer_type: PeerType, age: AgeBand) -> frozenset[str]:
        """Certifications that let a ``peer_type`` serve ``age`` when it does not anyway."""
        if self.serves(peer_type, age):
            return frozenset()
        return frozenset().union(*(r.certifications for r in self.rules_for(peer_type, age)))

    def allows(self, strength: Strength) -> bool:
        """Whether a certification preference may have this strength."""
        return strength in self.certification_strengths

    @cached_property
    def digest(self) -> str:
        """A short hash of the effective policy: replicas that agree show the same."""
        raw = json.dumps(self.canonical(), sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(raw).hexdigest()[:12]

    def canonical(self) -> dict[str, object]:
        """The effective policy as plain data, in a stable order (what ``policy show`` prints)."""
        weights = self.weights
        return {
            "programme": self.programme,
            "age_rules": [_rule_doc(r) for r in ordered_rules(self.age_rules)],
            "certification_strengths": sorted(s.value for s in self.certification_strengths),
            "weights": {name: weights.of(name) for name in sorted(weights_names())},
            "batch": {"urgency_weight": self.batch.urgency, "wait_weight_per_week": self.batch.wait_per_week},
        }


def weights_names() -> tuple[str, ...]:
    """The soft criteria a policy may weigh (the ``Weights`` fields)."""
    return tuple(name for name in Weights.__dataclass_fields__ if not name.startswith("_"))


def ordered_rules(rules: Iterable[AgeRule]) -> list[AgeRule]:
    """Rules by peer type, unconditional first: the order they are shown and hashed in."""
    types, bands = list(PeerType), list(AgeBand)

    def key(r: AgeRule) -> tuple[int, bool, list[str], list[int]]:
        return types.index(r.peer_type), r.conditional, sorted(r.certifications), sorted(map(bands.index, r.age_bands))

    return sorted(rules, key=key)


def _rule_doc(rule: AgeRule) -> dict[str, object]:
    bands = list(AgeBand)
    doc: dict[str, object] = {
        "peer_type": rule.peer_type.value,
        "age_bands": [b.value for b in sorted(rule.age_bands, key=bands.index)],
    }
    if rule.certifications:
        doc["certifications"] = sorted(rule.certifications)
    return doc


DEFAULT_POLICY = ProgrammePolicy()
