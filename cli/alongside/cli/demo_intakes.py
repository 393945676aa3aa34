"""Synthetic intakes as intake-YAML documents (the format ``intake submit`` reads).

Every sixth is urgent; youth and family cases recur every tenth; every twelfth
is one no peer can take, each for a different reason, so the waiting list
shows several kinds of explanation.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from alongside.cli.demo_values import AREAS, CULTURE_OF, ZONES, availability, weighted

ADULT_TYPES = ("recovery_coach", "peer_specialist", "peer_navigator")
LIVED = ("substance_use", "mental_health", "incarceration", "homelessness", "veteran", "lgbtq", "parenting")
PATHWAYS = ("medication_assisted", "twelve_step", "smart", "harm_reduction", "faith_based", "secular")


@dataclass(frozen=True)
class DemoIntake:
    number: int
    ref: str
    # routine, urgent, youth, family or unmatchable
    kind: str
    note: str
    doc: dict[str, Any]

    @property
    def unmatchable(self) -> bool:
        return self.kind == "unmatchable"


def _tigrinya(doc: dict[str, Any]) -> str:
    doc["preferences"]["languages"] = {"values": ["ti"], "strength": "required"}
    return "needs a Tigrinya-speaking peer; nobody on the roster speaks Tigrinya"


def _sunday_dawn(doc: dict[str, Any]) -> str:
    doc["participant"]["availability"] = ["sun 05:00-06:00"]
    return "free only early on Sunday mornings, when no peer works"


def _certification(doc: dict[str, Any]) -> str:
    doc["preferences"]["certifications"] = {"values": ["CPRS-ADV"], "strength": "required"}
    return "requires a certification (CPRS-ADV) that no peer holds"


def _island(doc: dict[str, Any]) -> str:
    doc["participant"]["service_area"] = "harbor_islands"
    doc["preferences"]["modalities"] = {"values": ["in_person"], "strength": "required"}
    return "can only meet in person, in Harbor Islands, which no peer serves"


def _age_rule(doc: dict[str, Any]) -> str:
    doc["participant"]["age_band"] = "older_adult"
    doc["peer_types"] = ["youth_peer"]
    return "an older adult asking only for a youth peer; youth peers serve ages 12-25"


UNMATCHABLE = (_tigrinya, _sunday_dawn, _certification, _island, _age_rule)


def make_intakes(seed: int, count: int, today: date) -> tuple[DemoIntake, ...]:
    rng = random.Random(f"alongside-demo-intakes-{seed}")
    return tuple(_intake(i, rng, today) for i in range(count))


def _kind(i: int) -> str:
    if i % 12 == 11 and i // 12 < len(UNMATCHABLE):
        return "unmatchable"
    if i % 6 == 0:
        return "urgent"
    return {3: "youth", 7: "family"}.get(i % 10, "routine")


def _intake(i: int, rng: random.Random, today: date) -> DemoIntake:
    kind, number = _kind(i), i + 1
    ref = f"demo-p-{number:04d}"
    doc: dict[str, Any] = {
        "participant": {
            "ref": ref, "age_band": weighted(rng, {"adult": 70, "young_adult": 20, "older_adult": 10}),
            "time_zone": weighted(rng, ZONES), "availability": list(availability(rng, rng.randint(2, 4))),
            "interpreter_needed": False, "service_area": rng.choice(AREAS),
        },
        "peer_types": rng.sample(ADULT_TYPES, rng.randint(1, 2)),
        "preferences": {},
        "urgency": "urgent" if kind == "urgent" else weighted(rng, {"routine": 85, "priority": 15}),
        "acuity": int(weighted(rng, {"2": 60, "3": 40} if kind == "urgent" else {"1": 70, "2": 25, "3": 5})),
        "session_minutes": 60,
        "consent": {
            "scope": "peer-support-matching", "recipients": ["assigned-peer"],
            "expires_at": (today + timedelta(days=365)).isoformat(), "form_ref": f"demo-form-{number:04d}",
        },
    }  # fmt: skip
    if kind == "youth":
        doc["participant"]["age_band"] = "youth"
        doc["peer_types"] = ["youth_peer"] + (["family_peer"] if rng.random() < 0.5 else [])
    elif kind == "family":
        doc["participant"]["age_band"] = weighted(rng, {"child": 70, "youth": 30})
        doc["peer_types"] = ["family_peer"]
    # An unmatchable case states no other hard preference, so its note names what empties the list.
    note = UNMATCHABLE[i // 12](doc) if kind == "unmatchable" else _preferences(doc, rng)
    if not doc["preferences"]:
        del doc["preferences"]
    return DemoIntake(number, ref, kind, note, doc)


def _preferences(doc: dict[str, Any], rng: random.Random) -> str:
    """Stated preferences, mostly weights, some hard; returns a one-line summary."""
    prefs: dict[str, Any] = doc["preferences"]
    roll = rng.random()
    language = next(
        (code for code, edge in (("es", 0.25), ("so", 0.32), ("vi", 0.37), ("ar", 0.42), ("ase", 0.45)) if roll < edge),
        "",
    )
    if language:
        required = language != "es" or rng.random() < 0.3
        prefs["languages"] = {"values": [language], "strength": "required" if required else "preferred"}
        if rng.random() < 0.5:
            prefs["cultures"] = [CULTURE_OF[language]]
    elif rng.random() < 0.06:
        doc["participant"]["interpreter_needed"] = True
        prefs["languages"] = {"values": ["ar"], "strength": "required"}
    if rng.random() < 0.4:
        prefs["lived_experience"] = [rng.choice(LIVED)]
    if rng.random() < 0.4:
        prefs["pathways"] = [rng.choice(PATHWAYS)]
    if rng.random() < 0.15:
        prefs["gender"] = {"values": ["woman"], "strength": "required" if rng.random() < 0.3 else "preferred"}
    if rng.random() < 0.3:
        prefs["modalities"] = ["phone", "video"]
    hard = [k for k, v in prefs.items() if isinstance(v, dict) and v.get("strength") == "required"]
    return f"requires: {', '.join(hard)}" if hard else "preferences are weights only"
