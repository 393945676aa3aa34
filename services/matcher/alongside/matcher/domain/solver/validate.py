"""Input checks for ``solve``: shapes, dtypes and value ranges.

Each failure raises ``InvalidArgument`` naming the field and the rule; the
message never repeats a value, since rows stand for people.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from alongside.kit.errors import InvalidArgument
from alongside.matcher.domain.solver.problem import BatchProblem, SideConstraints


def validate(problem: BatchProblem) -> None:
    """Raise ``InvalidArgument`` if ``problem`` breaks a documented rule."""
    profit, feasible = problem.profit, problem.feasible
    if not isinstance(profit, np.ndarray) or profit.ndim != 2:
        raise InvalidArgument("profit", "must be a 2-D array (participants x peers)")
    n, m = profit.shape
    _check_shape("feasible", feasible, (n, m))
    if feasible.dtype != np.bool_:
        raise InvalidArgument("feasible", "must be a boolean array")
    _check_profit(profit, feasible)
    _check_load(problem.load, feasible)
    _check_counts("capacity", problem.capacity, (m,))
    _check_penalty(problem.unmatched_penalty, n)
    _check_side(problem.side, n, m)


def _check_shape(name: str, arr: object, shape: tuple[int, ...]) -> None:
    if not isinstance(arr, np.ndarray) or arr.shape != shape:
        raise InvalidArgument(name, f"must have shape {shape}")


def _check_integral(name: str, arr: NDArray[np.generic]) -> None:
    if np.issubdtype(arr.dtype, np.integer):
        return
    if np.issubdtype(arr.dtype, np.floating):
        values = arr.astype(np.float64)
        if bool(np.isfinite(values).all()) and bool((values == np.round(values)).all()):
            return
    raise InvalidArgument(name, "must hold integers")


def _check_counts(name: str, arr: object, shape: tuple[int, ...]) -> None:
    _check_shape(name, arr, shape)
    assert isinstance(arr, np.ndarray)
    _check_integral(name, arr)
    if arr.size and int(arr.min()) < 0:
        raise InvalidArgument(name, "must not be negative")


def _check_profit(profit: NDArray[np.float64], feasible: NDArray[np.bool_]) -> None:
    if not np.issubdtype(profit.dtype, np.number):
        raise InvalidArgument("profit", "must be numeric")
    if bool(np.isfinite(profit).all()):
        return  # the usual case, in one pass: the finer checks below only name the fault
    if bool(np.isnan(profit).any()):
        raise InvalidArgument("profit", "must not be NaN")
    if not bool(np.isfinite(profit[feasible]).all()):
        raise InvalidArgument("profit", "must be finite on feasible pairs")


def _check_load(load: object, feasible: NDArray[np.bool_]) -> None:
    n, m = feasible.shape
    if not isinstance(load, np.ndarray) or load.shape not in ((n,), (n, m)):
        raise InvalidArgument("load", f"must have shape {(n,)} or {(n, m)}")
    _check_integral("load", load)
    used = load[feasible] if load.ndim == 2 else load[feasible.any(axis=1)]
    if used.size and int(used.min()) < 1:
        raise InvalidArgument("load", "must be at least 1 on feasible pairs")


def _check_penalty(penalty: object, n: int) -> None:
    _check_shape("unmatched_penalty", penalty, (n,))
    assert isinstance(penalty, np.ndarray)
    if not np.issubdtype(penalty.dtype, np.number):
        raise InvalidArgument("unmatched_penalty", "must be numeric")
    if not bool(np.isfinite(penalty).all()):
        raise InvalidArgument("unmatched_penalty", "must be finite")
    if penalty.size and float(penalty.min()) < 0:
        raise InvalidArgument("unmatched_penalty", "must not be negative")


def _check_side(side: SideConstraints, n: int, m: int) -> None:
    if side.intake_cap is not None:
        _check_counts("side.intake_cap", side.intake_cap, (m,))
    if (side.category is None) != (side.category_cap is None):
        raise InvalidArgument("side.category", "category and category_cap go together")
    if side.category is not None:
        _check_shape("side.category", side.category, (n,))
        if side.category.dtype != np.bool_:
            raise InvalidArgument("side.category", "must be a boolean array")
        _check_counts("side.category_cap", side.category_cap, (m,))
    if side.fairness not in ("none", "minmax"):
        raise InvalidArgument("side.fairness", "must be 'none' or 'minmax'")
    if side.fairness_measure not in ("load", "utilisation"):
        raise InvalidArgument("side.fairness_measure", "must be 'load' or 'utilisation'")
    if not 0.0 <= side.fairness_tolerance < 1.0:
        raise InvalidArgument("side.fairness_tolerance", "must be in [0, 1)")
