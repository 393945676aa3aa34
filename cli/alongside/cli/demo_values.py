"""Vocabularies and small random helpers shared by the demo roster and intakes."""

from __future__ import annotations

import random
from collections.abc import Mapping

LANGUAGES = ("en", "es", "so", "vi", "ar", "ase")  # ase: American Sign Language
CULTURE_OF = {"es": "latino", "so": "somali", "vi": "vietnamese", "ar": "arab", "ase": "deaf"}
OTHER_CULTURES = ("african_american", "native_american", "asian_american", "pacific_islander", "white", "multiracial")
AREAS = ("north", "south", "east", "west", "central")
ZONES = {"America/New_York": 40, "America/Chicago": 25, "America/Denver": 10, "America/Phoenix": 5,
         "America/Los_Angeles": 20}  # fmt: skip
# Peers work Monday to Saturday, 08:00-20:00 local: nobody is free on a Sunday.
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat")
BLOCKS = ("08:00-11:00", "09:00-12:00", "10:00-14:00", "13:00-17:00", "14:00-18:00", "17:00-20:00")


def weighted(rng: random.Random, weights: Mapping[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def availability(rng: random.Random, count: int, days: tuple[str, ...] = DAYS) -> tuple[str, ...]:
    """``count`` weekly windows such as ``tue 13:00-17:00``, one per day (so none overlap), in week order."""
    chosen = sorted(rng.sample(range(len(days)), min(count, len(days))))
    return tuple(f"{days[d]} {rng.choice(BLOCKS)}" for d in chosen)
