"""The programme policy as the API shows it (GetPolicy), and back (for a client
such as the console that checks a form by the matcher's own rules)."""

from __future__ import annotations

from dataclasses import replace

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.matcher.domain.model import AgeBand, PeerType, Strength
from alongside.matcher.domain.programme_policy import (
    AgeRule,
    BatchWeights,
    ProgrammePolicy,
    ordered_rules,
    weights_names,
)
from alongside.matcher.domain.weights import Weights
from alongside.matcher.mappers import enum_in, enum_out, enums_in


def policy_out(policy: ProgrammePolicy) -> pb.ProgrammePolicy:
    """The effective policy, in the same stable order as its digest."""
    out = pb.ProgrammePolicy(
        programme=policy.programme,
        digest=policy.digest,
        source=policy.source,
        batch_urgency_weight=policy.batch.urgency,
        batch_wait_weight_per_week=policy.batch.wait_per_week,
    )
    bands = list(AgeBand)
    for rule in ordered_rules(policy.age_rules):
        out.age_rules.add(
            peer_type=enum_out(pb.PeerType, rule.peer_type),
            age_bands=[enum_out(pb.AgeBand, b) for b in sorted(rule.age_bands, key=bands.index)],
            certifications=sorted(rule.certifications),
        )
    out.certification_strengths.extend(enum_out(pb.Strength, s) for s in Strength if policy.allows(s))
    for name in sorted(weights_names()):
        out.weights.add(criterion=name, weight=policy.weights.of(name))
    return out


def policy_in(message: pb.ProgrammePolicy) -> ProgrammePolicy:
    """The domain policy a GetPolicy reply describes (unknown criteria are ignored)."""
    rules = tuple(_rule_in(r) for r in message.age_rules)
    known = set(weights_names())
    weights = Weights(**{w.criterion: w.weight for w in message.weights if w.criterion in known})
    policy = ProgrammePolicy(
        programme=message.programme,
        age_rules=rules,
        certification_strengths=enums_in(
            "certification_strengths", message.certification_strengths, pb.Strength, Strength
        ),
        weights=weights,
        batch=BatchWeights(message.batch_urgency_weight, message.batch_wait_weight_per_week),
    )
    return replace(policy, source=message.source)


def _rule_in(rule: pb.AgeRule) -> AgeRule:
    peer_type = enum_in("age_rules.peer_type", rule.peer_type, pb.PeerType, PeerType)
    assert peer_type is not None  # not optional: UNSPECIFIED raises
    bands = enums_in("age_rules.age_bands", rule.age_bands, pb.AgeBand, AgeBand)
    return AgeRule(peer_type, bands, frozenset(rule.certifications))
