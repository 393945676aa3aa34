"""Set-valued peer attributes as bool matrices, with answers remembered.

One row per known tag, one column per peer. Requests ask the same few
questions again and again ("speaks Spanish", "is a recovery coach or a peer
navigator"), so each answer is kept, read-only, keyed by the set of values:
after warm-up a set test costs a dict lookup.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar, cast

import numpy as np
import numpy.typing as npt

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
A = TypeVar("A", bound=npt.NDArray[np.generic])
# Answers kept per matrix and question kind; the memo starts over when full.
MEMO_LIMIT = 1024


def frozen(array: A) -> A:
    array.flags.writeable = False
    return array


def _remember(memo: dict[frozenset[str], A], key: frozenset[str], value: A) -> A:
    if len(memo) >= MEMO_LIMIT:
        memo.clear()
    memo[key] = frozen(value)
    return value


@dataclass(frozen=True)
class TagMatrix:
    """Which peers carry which tag. Returned arrays are read-only: never write."""

    codes: Mapping[str, int]
    rows: BoolArray
    _any: dict[frozenset[str], BoolArray] = field(default_factory=dict, compare=False, repr=False)
    _all: dict[frozenset[str], BoolArray] = field(default_factory=dict, compare=False, repr=False)
    _count: dict[frozenset[str], IntArray] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def build(cls, tag_sets: Sequence[Iterable[str]]) -> TagMatrix:
        sets = [frozenset(tags) for tags in tag_sets]
        codes = {tag: i for i, tag in enumerate(sorted(set().union(*sets)))}
        rows = np.zeros((len(codes), len(sets)), dtype=np.bool_)
        for j, tags in enumerate(sets):
            rows[[codes[t] for t in tags], j] = True
        return cls(codes, frozen(rows))

    @property
    def width(self) -> int:
        return int(self.rows.shape[1])

    def _indices(self, values: frozenset[str]) -> list[int]:
        return [self.codes[v] for v in sorted(values) if v in self.codes]

    def any_of(self, values: Iterable[str]) -> BoolArray:
        """Peers carrying at least one of ``values``."""
        key = frozenset(values)
        hit = self._any.get(key)
        if hit is None:
            found = self.rows[self._indices(key)]
            hit = _remember(self._any, key, cast(BoolArray, found.any(axis=0)))
        return hit

    def all_of(self, values: Iterable[str]) -> BoolArray:
        """Peers carrying every one of ``values`` (none, if a value is unknown)."""
        key = frozenset(values)
        hit = self._all.get(key)
        if hit is None:
            idx = self._indices(key)
            if len(idx) < len(key):
                found = np.zeros(self.width, dtype=np.bool_)
            else:
                found = cast(BoolArray, self.rows[idx].all(axis=0))
            hit = _remember(self._all, key, found)
        return hit

    def count_of(self, values: Iterable[str]) -> IntArray:
        """How many of ``values`` each peer carries."""
        key = frozenset(values)
        hit = self._count.get(key)
        if hit is None:
            found = self.rows[self._indices(key)].sum(axis=0, dtype=np.int64)
            hit = _remember(self._count, key, cast(IntArray, found))
        return hit
