"""Batch matching solver core: a pure function over arrays.

``solve(BatchProblem) -> BatchResult`` (``dispatch.py``). See ``problem.py``
for the model, ``gains.py`` for the integer scale, ``flow.py`` with
``network.py``, ``prune.py``, ``certify.py`` and ``prices.py`` for the exact
flow engine with safe pruning, ``fairness.py`` for min-max load, and
``gap.py`` with ``lagrange.py``, ``bounds.py``, ``greedy.py`` and
``cpsat.py`` for pair-dependent loads; ``progress.py`` for what a solve
reports while it runs.
"""

from alongside.matcher.domain.solver.dispatch import solve
from alongside.matcher.domain.solver.problem import BatchProblem, BatchResult, SideConstraints
from alongside.matcher.domain.solver.progress import Progress, Report

__all__ = ["BatchProblem", "BatchResult", "Progress", "Report", "SideConstraints", "solve"]
