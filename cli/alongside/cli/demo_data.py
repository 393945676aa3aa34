"""Synthetic demo data: a roster of clearly fictional peers and intakes to match.

Deterministic: the same seed (and ``today``, which only dates the consents)
gives byte-identical files. Names read "Demo Peer 017 (fictional)";
participants are pseudonymous refs ("demo-p-0042"). The mix covers the five
peer types, English, Spanish, Somali, Vietnamese, Arabic and ASL, several
cultures, lived experiences, pathways, time zones, capacities and weekly
availability. Intakes include urgent, youth and family cases and some that
no peer can take, each for a different reason (see ``demo_intakes``). A
directory of community groups across pathways comes with it (``demo_directory``).
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml

from alongside.cli.demo_directory import groups_csv
from alongside.cli.demo_intakes import DemoIntake, make_intakes
from alongside.cli.demo_values import AREAS, CULTURE_OF, LANGUAGES, OTHER_CULTURES, ZONES, availability, weighted

TYPE_CYCLE = ("recovery_coach", "peer_specialist", "peer_navigator", "recovery_coach", "youth_peer",
              "peer_specialist", "family_peer", "peer_navigator")  # fmt: skip
ADULT_TYPES = ("recovery_coach", "peer_specialist", "peer_navigator")
CERTIFICATION = {"recovery_coach": "CRC", "peer_specialist": "CPSS", "peer_navigator": "CPN",
                 "youth_peer": "CYPS", "family_peer": "CFPS"}  # fmt: skip
AGE_GROUPS = {"youth_peer": ("youth", "young_adult"), "family_peer": ("child", "youth")}
LIVED = ("substance_use", "mental_health", "incarceration", "homelessness", "veteran", "lgbtq", "parenting",
         "foster_care", "chronic_pain", "grief")  # fmt: skip
PATHWAYS = ("medication_assisted", "twelve_step", "smart", "harm_reduction", "faith_based", "secular")
COLUMNS = ("peer_id", "display_name", "types", "certifications", "languages", "cultures", "gender",
           "lived_experience", "pathways", "modalities", "service_area", "age_groups", "time_zone",
           "availability", "capacity", "status", "supervisor_id")  # fmt: skip


@dataclass(frozen=True)
class DemoPeer:
    peer_id: str
    display_name: str
    types: tuple[str, ...]
    certifications: tuple[str, ...]
    languages: tuple[str, ...]
    cultures: tuple[str, ...]
    gender: str
    lived_experience: tuple[str, ...]
    pathways: tuple[str, ...]
    modalities: tuple[str, ...]
    service_area: str
    age_groups: tuple[str, ...]
    time_zone: str
    availability: tuple[str, ...]
    capacity: int
    status: str
    supervisor_id: str


@dataclass(frozen=True)
class DemoData:
    seed: int
    peers: tuple[DemoPeer, ...]
    intakes: tuple[DemoIntake, ...]


def generate(seed: int = 7, peers: int = 200, intakes: int = 60, today: date | None = None) -> DemoData:
    """The roster and intakes for ``seed``; ``today`` dates the consents (default 2027-01-01)."""
    rng = random.Random(f"alongside-demo-peers-{seed}")
    roster = tuple(_peer(i, rng) for i in range(peers))
    return DemoData(seed, roster, make_intakes(seed, intakes, today or date(2027, 1, 1)))


def _peer(i: int, rng: random.Random) -> DemoPeer:
    primary = TYPE_CYCLE[i % len(TYPE_CYCLE)]
    types = [primary]
    if primary in ADULT_TYPES and rng.random() < 0.15:
        types.append(rng.choice([t for t in ADULT_TYPES if t != primary]))
    # The first peers cover every language, so even a small roster has them all.
    second = (
        LANGUAGES[1 + i]
        if i < len(LANGUAGES) - 1
        else weighted(rng, {"": 45, "es": 30, "so": 7, "vi": 7, "ar": 7, "ase": 4})
    )
    languages = ["en"] + ([second] if second else [])
    cultures = [CULTURE_OF[second]] if second and rng.random() < 0.85 else []
    if rng.random() < 0.5:
        cultures.append(rng.choice(OTHER_CULTURES))
    lived = rng.sample(LIVED, rng.randint(1, 3))
    if primary == "family_peer" and "parenting" not in lived:
        lived.append("parenting")
    modalities = [m for m, p in (("phone", 0.9), ("video", 0.8), ("in_person", 0.7), ("text", 0.3)) if rng.random() < p]
    young = primary in AGE_GROUPS
    return DemoPeer(
        peer_id=f"demo-peer-{i + 1:03d}",
        display_name=f"Demo Peer {i + 1:03d} (fictional)",
        types=tuple(types),
        certifications=tuple(sorted({CERTIFICATION[t] for t in types} | ({"CPRS"} if rng.random() < 0.3 else set()))),
        languages=tuple(languages),
        cultures=tuple(dict.fromkeys(cultures)),
        gender=weighted(rng, {"woman": 50, "man": 42, "nonbinary": 8}),
        lived_experience=tuple(lived),
        pathways=tuple(rng.sample(PATHWAYS, rng.randint(1, 3))),
        modalities=tuple(modalities or ["phone"]),
        service_area=rng.choice(AREAS),
        age_groups=AGE_GROUPS.get(primary, ("young_adult", "adult", "older_adult")),
        time_zone=weighted(rng, ZONES),
        availability=availability(rng, rng.randint(2, 5)),
        capacity=rng.randint(3, 6) if young else rng.randint(5, 10),
        status="active" if i < 10 else weighted(rng, {"active": 92, "on_leave": 6, "inactive": 2}),
        supervisor_id=f"demo-sup-{rng.randint(1, 8):02d}",
    )


def roster_csv(peers: tuple[DemoPeer, ...]) -> str:
    """The roster in the matcher's CSV format (lists separated by ';')."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for peer in peers:
        row = [getattr(peer, c) for c in COLUMNS]
        writer.writerow(["; ".join(v) if isinstance(v, tuple) else v for v in row])
    return buffer.getvalue()


def intake_yaml(intake: DemoIntake) -> str:
    header = f"# Demo intake {intake.number:03d} (fictional): {intake.kind}\n# {intake.note}\n"
    return header + yaml.safe_dump(intake.doc, sort_keys=False, allow_unicode=True, default_flow_style=None)


def write_files(data: DemoData, folder: Path) -> list[Path]:
    """``roster.csv``, ``groups.csv`` and ``intakes/intake-NNN.yaml`` under ``folder``."""
    (folder / "intakes").mkdir(parents=True, exist_ok=True)
    written = [folder / "roster.csv", folder / "groups.csv"]
    written[0].write_text(roster_csv(data.peers), encoding="utf-8")
    written[1].write_text(groups_csv(), encoding="utf-8")
    for intake in data.intakes:
        path = folder / "intakes" / f"intake-{intake.number:03d}.yaml"
        path.write_text(intake_yaml(intake), encoding="utf-8")
        written.append(path)
    return written
