"""Slot prices read off the flow potentials: an upper bound at any slots, and the arcs that spoil it.

For any prices ``b[j] >= 0`` on peer ``j``'s slots and ``c[j] >= 0`` on its
category places, LP weak duality (relax every per-peer row) bounds the best
gain over *every* usable pair, for any slot vector ``s``:

    U(s) = sum_i max(0, max_j r[i, j]) + s . b + category_cap . c,
    r[i, j] = cost[i, j] - b[j] - c[j] * category[i]

(``cost`` is 0 off the usable pairs, where ``r <= 0`` adds nothing). Only
``s . b`` depends on the slots, so prices found at one level of the min-max
search bound every other level for the price of a dot product.

The prices come from the potentials ``p = -D`` of ``certify.py``: ``b[j] =
D[j]``, ``c[j] = D[split of j] - b[j]``, clipped to ``[0, CLIP]`` (any value
is valid; clipping only drops peers nobody can use). They are optimal duals
of the flow on the kept arcs, so by complementary slackness ``U`` over the
kept arcs equals the flow's gain, and over every arc it exceeds the gain by
``sum_i max(0, max_j r[i, j] - u[i])`` with ``u[i] = max(0, max r[i, j] over
kept arcs)``. Arcs with ``r[i, j] > u[i]`` are the only ones that keep the
bound above the gain: the solver adds them back (the largest ``r`` of each
row first, with near misses). It never relies on this argument for
correctness, though: it stops only when ``U``, computed over every arc, is
at most the gain, and falls back to every arc if no arc is left to add.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from alongside.matcher.domain.solver.certify import Potentials
from alongside.matcher.domain.solver.gains import CostArray
from alongside.matcher.domain.solver.network import IntArray, Network
from alongside.matcher.domain.solver.prune import kth_largest

# No usable gain exceeds it (gains.EXACT_LIMIT), and cost - b - c stays within int32.
CLIP = 2**30
NO_BOUND = 2**62  # stands for "no prices yet"
MARGIN = 4.0  # near misses added: within this many mean row excesses below u (tuned on bench/)


@dataclass(frozen=True)
class Prices:
    """One price vector, with the slot-free part of ``U`` already summed."""

    fixed: int
    b: IntArray

    def bound_at(self, slots: IntArray) -> int:
        return self.fixed + int(slots @ self.b)


@dataclass(frozen=True)
class Check:
    """``U`` at the network's slots, its prices, and the usable arcs to add (``check``)."""

    bound: int
    prices: Prices
    rows: IntArray
    cols: IntArray


def slot_prices(net: Network, pot: Potentials) -> tuple[IntArray, IntArray]:
    """``b`` and ``c`` of the module docstring (``c`` is 0 on peers without a split node)."""
    sink = pot.right[net.m + net.num_splits]
    b = np.clip(sink - pot.right[: net.m], 0, CLIP)
    split = net.split_of >= 0
    c = np.zeros(net.m, dtype=np.int64)
    c[split] = np.clip(sink - pot.right[net.split_of[split]] - b[split], 0, CLIP)
    c[b >= CLIP] = 0  # nobody reaches such a peer anyway: its category price only loosens U
    return b, c


def check(net: Network, pot: Potentials, cost: CostArray, k: int) -> Check:
    """One dense pass over every pair: the bound, and up to ``k`` arcs per row to add (``k >= 1``)."""
    b, c = slot_prices(net, pot)
    r = _reduced(net, cost, b, c)
    best = r.max(axis=1, initial=0).astype(np.int64)
    split = net.split_of >= 0
    prices = Prices(int(best.sum()) + int(net.split_cap[split] @ c[split]), b)
    kept = net.cost - b[net.cols] - c[net.cols] * net.category[net.rows]
    u = np.zeros(net.n, dtype=np.int64)
    np.maximum.at(u, net.rows, kept)
    excess = best - u
    over = excess > 0
    if not over.any():
        return Check(prices.bound_at(net.slots), prices, u[:0], u[:0])
    # Near misses go too: the next prices move by about a row's excess, so arcs that close
    # below u are the next round's likely violations (this spares rounds; it cannot make the
    # answer wrong). Kept arcs are masked out so the quota goes to new ones.
    margin = int(MARGIN * excess[over].mean())
    r[net.rows, net.cols] = np.iinfo(np.int32).min
    rows, cols = _largest_above(r, u - margin, k)
    usable = cost[rows, cols] > 0  # a near miss may be a pair that is not usable (cost 0)
    return Check(prices.bound_at(net.slots), prices, rows[usable], cols[usable])


def _largest_above(r: NDArray[np.int32], floor: IntArray, k: int) -> tuple[IntArray, IntArray]:
    """Pairs with ``r[i, j] > floor[i]`` among the ``k`` largest ``r`` of their row (ties kept)."""
    limit = np.maximum(kth_largest(r, k).astype(np.int64), floor + 1)
    rows, cols = np.divmod(np.flatnonzero(r >= limit[:, None]), r.shape[1])
    return rows.astype(np.int64), cols.astype(np.int64)


def _reduced(net: Network, cost: CostArray, b: IntArray, c: IntArray) -> NDArray[np.int32]:
    """``r`` on every pair, in 32 bits (``cost <= 2**30`` and ``b, c <= CLIP``)."""
    r = np.subtract(cost, b.astype(np.int32)[None, :])
    cols, rows = np.flatnonzero(c), np.flatnonzero(net.category)
    if cols.size and rows.size:
        r[np.ix_(rows, cols)] -= c[cols].astype(np.int32)[None, :]
    return r


def arcs_to_add(net: Network, pot: Potentials, cost: CostArray, k: int) -> NDArray[np.bool_]:
    """Dense mask of the arcs ``check`` adds (for tests and inspection)."""
    found = check(net, pot, cost, k)
    mask = np.zeros(cost.shape, dtype=np.bool_)
    mask[found.rows, found.cols] = True
    return mask
