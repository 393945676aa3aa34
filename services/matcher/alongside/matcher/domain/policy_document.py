"""A programme's policy document, checked field by field into a ``ProgrammePolicy``.

The document is plain data (a mapping, as YAML or JSON gives it). It starts
from a base policy (the built-in one, with the service's batch settings) and
replaces what it names; ``programme`` is the only field it must have. Where
it lets a certification be PREFERRED, the certification weighs 2 unless
``weights.certification`` says otherwise. Each
peer type listed under ``age_rules`` replaces that type's rules; types not
listed keep theirs. Anything unknown or malformed raises
``InvalidArgument`` naming the field, e.g. ``age_rules.PEER_SPECIALIST[1].age_bands[0]``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from alongside.kit.errors import InvalidArgument
from alongside.matcher.domain import validation_rules as rules
from alongside.matcher.domain.model import AgeBand, PeerType, Strength
from alongside.matcher.domain.programme_policy import AgeRule, BatchWeights, ProgrammePolicy, weights_names
from alongside.matcher.domain.weights import Weights

FIELDS = ("programme", "age_rules", "certification_strengths", "weights", "batch")
RULE_FIELDS = ("age_bands", "certifications")
BATCH_FIELDS = ("urgency_weight", "wait_weight_per_week")
MAX_BATCH_WEIGHT = 1000.0
# A preferred certification weighs this much unless the document says (as culture does).
PREFERRED_CERTIFICATION_WEIGHT = 2.0
_PROGRAMME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def policy_document(doc: object, base: ProgrammePolicy, source: str = "") -> ProgrammePolicy:
    """``base`` with what ``doc`` says; raises ``InvalidArgument`` naming the first bad field."""
    top = _mapping("(document)", doc, FIELDS)
    if "programme" not in top:
        raise InvalidArgument("programme", "is required: the programme this policy belongs to")
    policy = replace(base, programme=_programme(top["programme"]), source=source or base.source)
    if "age_rules" in top:
        policy = replace(policy, age_rules=_age_rules(top["age_rules"], base.age_rules))
    if "certification_strengths" in top:
        strengths = _enum_list("certification_strengths", top["certification_strengths"], Strength)
        policy = replace(policy, certification_strengths=frozenset(strengths))
    weights = base.weights
    if policy.allows(Strength.PREFERRED) and weights.of("certification") == 0.0:
        weights = replace(weights, certification=PREFERRED_CERTIFICATION_WEIGHT)
    if "weights" in top:
        weights = _weights(top["weights"], weights)
    policy = replace(policy, weights=weights)
    if "batch" in top:
        policy = replace(policy, batch=_batch(top["batch"], base.batch))
    return policy


def _mapping(name: str, value: object, known: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidArgument(name, "must be a mapping of names to values")
    for key in value:
        if key not in known:
            raise InvalidArgument(_join(name, str(key)), f"is not a known field (known: {', '.join(known)})")
    return dict(value)


def _join(parent: str, child: str) -> str:
    return child if parent == "(document)" else f"{parent}.{child}"


def _programme(value: object) -> str:
    if not isinstance(value, str) or not _PROGRAMME.fullmatch(value):
        rule = "must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
        raise InvalidArgument("programme", rule)
    return value


def _list(name: str, value: object) -> list[object]:
    if not isinstance(value, list) or not value:
        raise InvalidArgument(name, "must be a non-empty list")
    rules.check_count(name, len(value))
    return value


def _enum_list(name: str, value: object, enum: type[rules.E]) -> list[rules.E]:
    return [rules.check_enum(f"{name}[{i}]", item, enum) for i, item in enumerate(_list(name, value))]


def _age_rules(value: object, base: tuple[AgeRule, ...]) -> tuple[AgeRule, ...]:
    names = tuple(t.value for t in PeerType)
    by_type = _mapping("age_rules", value, names)
    replaced = {PeerType(name): _type_rules(PeerType(name), entries) for name, entries in by_type.items()}
    kept = tuple(r for r in base if r.peer_type not in replaced)
    return kept + tuple(rule for rules_of in replaced.values() for rule in rules_of)


def _type_rules(peer_type: PeerType, entries: object) -> tuple[AgeRule, ...]:
    name = f"age_rules.{peer_type.value}"
    if isinstance(entries, list) and not entries:
        return ()  # this type serves nobody
    return tuple(_rule(peer_type, f"{name}[{i}]", e) for i, e in enumerate(_list(name, entries)))


def _rule(peer_type: PeerType, name: str, entry: object) -> AgeRule:
    fields = _mapping(name, entry, RULE_FIELDS)
    if "age_bands" not in fields:
        raise InvalidArgument(f"{name}.age_bands", "is required")
    bands = _enum_list(f"{name}.age_bands", fields["age_bands"], AgeBand)
    certifications: frozenset[str] = frozenset()
    if "certifications" in fields:
        listed = _list(f"{name}.certifications", fields["certifications"])
        certifications = rules.tag_set(f"{name}.certifications", listed, upper=True)
    return AgeRule(peer_type, frozenset(bands), certifications)


def _weights(value: object, base: Weights) -> Weights:
    given = _mapping("weights", value, weights_names())
    merged = {name: base.of(name) for name in weights_names()}
    for name, weight in given.items():
        merged[name] = _number(f"weights.{name}", weight, 100.0)
    return Weights(**merged)


def _batch(value: object, base: BatchWeights) -> BatchWeights:
    given = _mapping("batch", value, BATCH_FIELDS)
    urgency, wait = base.urgency, base.wait_per_week
    if "urgency_weight" in given:
        urgency = _number("batch.urgency_weight", given["urgency_weight"], MAX_BATCH_WEIGHT)
    if "wait_weight_per_week" in given:
        wait = _number("batch.wait_weight_per_week", given["wait_weight_per_week"], MAX_BATCH_WEIGHT)
    return BatchWeights(urgency, wait)


def _number(name: str, value: object, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidArgument(name, "must be a number")
    if not 0.0 <= value <= high:
        raise InvalidArgument(name, f"must be between 0 and {high:g}")
    return float(value)
