"""Apply the hard constraints: the feasible mask, and the funnel behind it.

``feasible`` is the hot path: one AND per constraint that applies.
``funnel`` re-runs the same checks in order and counts the survivors after
each, which is what a waiting-list reason reports.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from alongside.matcher.domain.availability import BoolArray
from alongside.matcher.domain.constraints import HARD_CONSTRAINTS, Constraint
from alongside.matcher.domain.query import Query
from alongside.matcher.domain.roster_index import RosterIndex


@dataclass(frozen=True)
class Step:
    """After ``constraint``, ``remaining`` of the ``of`` peers before it still pass."""

    constraint: Constraint
    remaining: int
    of: int
    applies: bool


def feasible(ix: RosterIndex, q: Query) -> BoolArray:
    """Peers that satisfy every hard constraint for this query."""
    mask = np.ones(len(ix), dtype=np.bool_)
    for _, check in HARD_CONSTRAINTS:
        passed = check(ix, q)
        if passed is not None:
            mask &= passed
    return mask


def funnel(ix: RosterIndex, q: Query) -> tuple[Step, ...]:
    """Survivor counts after each hard constraint, in funnel order."""
    mask = np.ones(len(ix), dtype=np.bool_)
    steps = []
    before = len(ix)
    for constraint, check in HARD_CONSTRAINTS:
        passed = check(ix, q)
        if passed is not None:
            mask &= passed
        remaining = int(np.count_nonzero(mask))
        steps.append(Step(constraint, remaining, before, passed is not None))
        before = remaining
    return tuple(steps)


def emptied_by(steps: tuple[Step, ...]) -> Step | None:
    """The first step that left nobody, if any did."""
    return next((step for step in steps if step.remaining == 0), None)
