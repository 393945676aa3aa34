"""What the engine returns: a ranked shortlist, or a reason nobody fits.

These are the domain's answer to intake. Every text is plain language for
intake staff and the participant, and names no person.
"""

from __future__ import annotations

from dataclasses import dataclass

from alongside.matcher.domain.phrases import Phrase


@dataclass(frozen=True)
class Contribution:
    """One reason a candidate fits: ``points`` of ``max_points`` on ``criterion``.

    ``text`` is the phrase (e.g. "Speaks Somali (preferred language)");
    ``line`` adds the points. Requirements that were met are listed with
    ``max_points`` 0: they explain the fit but add nothing to the score.
    """

    criterion: str
    points: float
    max_points: float
    text: str
    phrase: Phrase | None = None  # ``text`` as template and values, for other languages

    @property
    def line(self) -> str:
        return f"{self.text} +{self.points:.1f}" if self.max_points > 0 else self.text


@dataclass(frozen=True)
class Candidate:
    """A feasible peer, its score and the contributions that sum to it."""

    peer_id: str
    score: float
    contributions: tuple[Contribution, ...]


@dataclass(frozen=True)
class ConstraintCount:
    """After ``constraint``, ``remaining`` of the ``of`` peers before it still pass."""

    constraint: str
    remaining: int
    of: int
    text: str
    phrase: Phrase | None = None  # ``text`` as template and values, for other languages


@dataclass(frozen=True)
class Reason:
    """Why the list is empty: the funnel, and the constraint that emptied it."""

    summary: str
    constraint: str
    funnel: tuple[ConstraintCount, ...]
    summary_phrase: Phrase | None = None


@dataclass(frozen=True)
class Shortlist:
    """Up to k ranked candidates, or (when nobody fits) a waiting-list reason."""

    candidates: tuple[Candidate, ...]
    reason: Reason | None = None

    @property
    def waitlisted(self) -> bool:
        return self.reason is not None
