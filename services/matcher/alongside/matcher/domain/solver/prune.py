"""Candidate arcs for the flow, and the arcs added back by the certificate.

The start set unites, over usable pairs: each participant's top ``k`` peers
by gain; each peer's top ``k`` participants by gain; and each participant's
top ``k`` peers by gain minus the peer's mean gain. The last term matters on
contended instances, where everyone's best peers are the same few: the mean
is a cheap stand-in for how much a peer is wanted (its dual price), so it
lets each participant reach the peers it is likely to end up with.

Pruning alone is a heuristic. ``certify.py`` and ``prices.py`` make it
safe: arcs whose reduced gain says they could improve the solution are added
back (at most ``ADD_K`` per participant per round, the most violated first,
then near misses) until a bound over every arc meets the flow's gain. The
constants were tuned on the benchmark instances (``bench/``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

DEFAULT_K = 10  # start set: top 10 per participant, per peer, and per participant net of the mean
ADD_K = 12  # arcs added back per participant and round, worst violations first
_NEVER = np.iinfo(np.int32).min
_RANK = np.int32  # costs fit (gains.EXACT_LIMIT); 32-bit selection is several times faster


def start_mask(cost: NDArray[np.int32], usable: NDArray[np.bool_], k: int = DEFAULT_K) -> NDArray[np.bool_]:
    """The starting candidate set described in the module docstring (``cost`` is 0 off ``usable``)."""
    n, m = cost.shape
    mask = np.zeros((n, m), dtype=np.bool_)
    if n == 0 or m == 0:
        return mask
    # Usable costs are positive and the rest 0, so ranking ``cost`` as it is picks the same usable
    # pairs as ranking the others last: a tie at 0 only happens in a line with fewer than k usable
    # pairs, where every usable pair is kept either way (the final ``& usable`` drops the rest).
    ranked = cost.astype(_RANK, copy=False)
    _mark_top(mask, ranked, k, axis=1)
    _mark_top(mask, ranked, k, axis=0)
    counts = np.maximum(usable.sum(axis=0), 1)
    mean = (cost.sum(axis=0) // counts).astype(_RANK)
    _mark_top(mask, np.where(usable, ranked - mean[None, :], _NEVER).astype(_RANK, copy=False), k, axis=1)
    return mask & usable


def top_per_row(bad: NDArray[np.bool_], excess: NDArray[np.signedinteger[Any]], k: int = ADD_K) -> NDArray[np.bool_]:
    """Entries of ``bad`` among the ``k`` largest ``excess`` of their row."""
    many = np.flatnonzero(bad.sum(axis=1) > k)
    if many.size == 0:
        return bad
    sub_bad = bad[many]
    sub = np.minimum(excess[many], np.iinfo(_RANK).max)
    sub *= sub_bad
    top = np.zeros(sub.shape, dtype=np.bool_)
    _mark_top(top, sub.astype(_RANK), k, axis=1)
    out = bad.copy()
    out[many] = top & sub_bad
    return out


def _mark_top(mask: NDArray[np.bool_], ranked: NDArray[np.int32], k: int, axis: int) -> None:
    """Set ``mask`` where ``ranked`` is at least the k-th largest along ``axis`` (ties kept)."""
    if axis == 0:
        mask |= ranked >= kth_largest(transposed(ranked), k)[None, :]
    else:
        mask |= ranked >= kth_largest(ranked, k)[:, None]


def kth_largest(ranked: NDArray[np.int32], k: int) -> NDArray[np.int32]:
    """The k-th largest value of each row (the row minimum when it is shorter than ``k``)."""
    length = ranked.shape[1]
    kth: NDArray[np.int32]
    if k >= length:
        kth = ranked.min(axis=1, initial=np.iinfo(_RANK).max)
    else:
        kth = np.partition(ranked, length - k, axis=1)[:, length - k]
    return kth


def transposed(values: NDArray[np.int32], block: int = 256) -> NDArray[np.int32]:
    """A contiguous transpose, copied in row blocks: several times faster than one strided copy."""
    out = np.empty(values.shape[::-1], dtype=values.dtype)
    for start in range(0, values.shape[0], block):
        out[:, start : start + block] = values[start : start + block].T
    return out
