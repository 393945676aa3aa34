"""What a solve reports while it runs, and the explanation of a chosen pair."""

from __future__ import annotations

import numpy as np

from alongside.matcher.domain.explain_pair import explain_pair
from alongside.matcher.domain.model import Preferences
from alongside.matcher.domain.roster_index import RosterIndex
from alongside.matcher.domain.shortlist import shortlist
from alongside.matcher.domain.solver import Progress, solve
from alongside.matcher.domain.solver import progress as phases
from alongside.matcher.domain.weights import Weights
from tests.unit.matcher.test_model import NOW, peer, pref, request
from tests.unit.matcher.test_solver_gap import gap_problem


def test_uniform_loads_report_the_flow_phase_only() -> None:
    heard: list[Progress] = []
    solve(gap_problem([[5, 4], [6, 2]], [1, 1], [1, 1]), report=heard.append)
    assert [p.phase for p in heard] == [phases.FLOW]


def test_pair_dependent_loads_report_lagrangian_then_cp_sat_solutions() -> None:
    rng = np.random.default_rng(7)
    profit = rng.uniform(1, 10, (30, 6)).round(2).tolist()
    load = rng.integers(1, 4, (30, 6)).tolist()
    heard: list[Progress] = []
    result = solve(gap_problem(profit, load, [6] * 6), time_limit_s=2.0, report=heard.append)
    assert heard[0].phase == phases.LAGRANGIAN
    first = next(p for p in heard if p.bound is not None)
    assert first.phase == phases.LAGRANGIAN, "a gap to show as soon as the LP phase ends, before CP-SAT"
    assert first.objective is not None and first.bound is not None
    assert first.objective <= first.bound + 1e-6
    assert first.bound >= result.objective - 1e-6
    cp = [p for p in heard if p.phase == phases.CP_SAT]
    assert cp and cp[0].solutions == 0  # the Lagrangian incumbent and bound, before CP-SAT starts
    found = [p for p in cp if p.solutions]
    assert found and [p.solutions for p in found] == list(range(1, len(found) + 1))
    for p in cp:
        assert p.objective is not None and p.bound is not None
        assert p.objective <= p.bound + 1e-6
        assert p.bound >= result.objective - 1e-6  # a bound holds for the full problem
    assert (found[-1].objective or 0.0) <= result.objective + 1e-6


def test_a_pair_is_explained_as_the_shortlist_explains_it() -> None:
    index = RosterIndex([peer("a"), peer("b", languages=frozenset({"so"}))])
    wanted = request(Preferences(languages=pref("so")))
    listed = {c.peer_id: c.contributions for c in shortlist(index, wanted, k=2, weights=Weights(), now=NOW).candidates}
    for position, peer_id in enumerate(index.peer_ids):
        assert explain_pair(index, wanted, position, weights=Weights(), now=NOW) == listed[peer_id]
