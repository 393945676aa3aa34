"""The vectorised engine against the benchmark's independent per-peer loop.

The loop in ``bench/match_scoring.py`` re-implements every rule with plain
sets and Python ints. On a seeded synthetic roster both must give the same
top k (ids and exact scores), the same emptying constraint, and the same
feasibility for every pair, over the engagement horizon (the loop finds each
pair's clock-change regimes on its own) and with a zero horizon.
"""

from __future__ import annotations

import importlib.util
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest

from alongside.matcher.domain.pair_matrices import pair_matrices
from alongside.matcher.domain.roster_index import RosterIndex
from alongside.matcher.domain.validation import validate_peer, validate_request
from alongside.matcher.domain.weights import Weights

BENCH = Path(__file__).resolve().parents[3] / "bench" / "match_scoring.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("match_scoring_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("weeks", "start"),
    [(26, None), (0, None), (26, datetime(2026, 12, 7, 15, tzinfo=UTC)), (1, datetime(2027, 3, 10, 15, tzinfo=UTC))],
)
def test_engine_agrees_with_the_loop(
    bench: ModuleType, weeks: int, start: datetime | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From mid-March (one change in 26 weeks), from December (five distinct weeks), and over the week
    of the US change, where a Sunday evening window in the west wraps to the week's first hours."""
    if start is not None:
        monkeypatch.setattr(bench, "NOW", start)
    bench.pair_week_starts.cache_clear()
    horizon = timedelta(weeks=weeks)
    rng = random.Random(2024)
    peers = [validate_peer(bench.make_peer(rng, i)) for i in range(300)]
    ids = [p.peer_id for p in peers]
    loads = {pid: rng.randint(0, 6) for pid in ids}
    requests = [validate_request(bench.make_request(rng, i, ids)) for i in range(80)]
    index = RosterIndex(peers, loads)
    loop_peers = [bench.LoopPeer(p) for p in peers]
    weights = Weights(culture=1.7, availability=0.9)
    outcomes = set()
    for r in requests:
        got = bench.engine_shortlist(index, r, weights, horizon)
        assert got == bench.loop_shortlist(loop_peers, loads, r, weights, horizon), r.request_id
        outcomes.add(got[1])
    assert "" in outcomes and len(outcomes) >= 3  # some shortlists, several emptying constraints


def test_pair_matrices_agree_with_the_loop(bench: ModuleType) -> None:
    rng = random.Random(7)
    peers = [bench.make_peer(rng, i) for i in range(120)]
    ids = [p.peer_id for p in peers]
    requests = [bench.make_request(rng, i, ids) for i in range(25)]
    index = RosterIndex(peers)
    m = pair_matrices(index, requests, weights=Weights(), now=bench.NOW)
    for r, request in enumerate(requests):
        for j, p in enumerate(index.peers):
            weeks = bench.pair_weeks(p, request, bench.HORIZON)
            ok = bench.first_failure(bench.LoopPeer(p), request, request.excluded_peer_ids, 0, weeks) == 14
            assert bool(m.feasible[r, j]) is ok
    assert m.feasible.any() and not m.feasible.all()
