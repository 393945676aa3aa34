"""What the solver says while it works: a phase and, in CP-SAT, its solutions.

``solve`` takes an optional ``Report`` and calls it from the thread it runs
in; whoever passes one decides how to carry it elsewhere (the batch use case
hands it to the event loop). Objective and bound are in objective units,
the same as ``BatchResult``'s.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# Phases, in the order a solve goes through them (each may be skipped).
FLOW = "flow"
LAGRANGIAN = "lagrangian"
CP_SAT = "cpsat"
FAIRNESS = "fairness"


@dataclass(frozen=True)
class Progress:
    phase: str
    solutions: int = 0
    objective: float | None = None
    bound: float | None = None


Report = Callable[[Progress], None]


def silent(_: Progress) -> None:
    """The report of a caller that does not listen."""
