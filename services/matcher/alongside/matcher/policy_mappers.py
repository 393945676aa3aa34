"""The programme policy as the API shows it (GetPolicy)."""

from __future__ import annotations

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.matcher.domain.model import AgeBand, Strength
from alongside.matcher.domain.programme_policy import ProgrammePolicy, ordered_rules, weights_names
from alongside.matcher.mappers import enum_out


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
