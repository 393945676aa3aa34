"""Two programme policies over the same roster: different shortlists, explanations, funnels and batch priorities.

Policy A is the built-in one. Policy B is ``docs/examples/policy.yaml``:
peer specialists holding CPSS may serve youth, a certification may be
preferred, and the batch weighs time waited over urgency.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from alongside.kit.errors import InvalidArgument
from alongside.matcher.adapters.policy_file import load_policy
from alongside.matcher.domain.model import AgeBand, Peer, PeerType, Preferences
from alongside.matcher.domain.pair_matrices import pair_matrices
from alongside.matcher.domain.programme_policy import DEFAULT_POLICY, ProgrammePolicy
from alongside.matcher.domain.results import Shortlist
from alongside.matcher.domain.roster_index import RosterIndex
from alongside.matcher.domain.shortlist import shortlist
from alongside.matcher.domain.solver import BatchProblem, SideConstraints, solve
from alongside.matcher.domain.validation import validate_request
from tests.unit.matcher.test_model import NOW, participant, peer, pref, request

POLICY_B = load_policy(str(Path(__file__).parents[3] / "docs" / "examples" / "policy.yaml"), DEFAULT_POLICY)
SPECIALIST = frozenset({PeerType.PEER_SPECIALIST})
YOUTH = participant(age_band=AgeBand.YOUTH)

ROSTER = [
    peer("ps-certified", types=SPECIALIST, certifications=frozenset({"CPSS"}),
         age_groups=frozenset({AgeBand.YOUTH, AgeBand.ADULT})),
    peer("ps-plain", types=SPECIALIST, age_groups=frozenset({AgeBand.YOUTH, AgeBand.ADULT})),
    peer("yp", types=frozenset({PeerType.YOUTH_PEER}), age_groups=frozenset({AgeBand.YOUTH})),
]  # fmt: skip


def listed(policy: ProgrammePolicy, **req: object) -> Shortlist:
    checked = validate_request(request(**req), policy)  # type: ignore[arg-type]
    return shortlist(RosterIndex(ROSTER), checked, k=5, weights=policy.weights, now=NOW, policy=policy)


def ids(result: Shortlist) -> list[str]:
    return [c.peer_id for c in result.candidates]


def test_a_certified_peer_specialist_serves_youth_only_under_policy_b_and_says_why() -> None:
    both = frozenset({PeerType.PEER_SPECIALIST, PeerType.YOUTH_PEER})
    assert ids(listed(DEFAULT_POLICY, participant=YOUTH, peer_types=both)) == ["yp"]
    under_b = listed(POLICY_B, participant=YOUTH, peer_types=both)
    assert sorted(ids(under_b)) == ["ps-certified", "yp"]
    why = {c.peer_id: [x.text for x in c.contributions] for c in under_b.candidates}
    assert why["ps-certified"][0] == "Serves youth (12-17) as peer specialist holding CPSS, as this programme allows"
    assert why["yp"] == [x.text for x in listed(DEFAULT_POLICY, participant=YOUTH, peer_types=both).candidates[0]
                         .contributions]  # a peer the age rule lets in anyway gets no note
    note = under_b.candidates[ids(under_b).index("ps-certified")].contributions[0]
    assert note.criterion == "age_rules" and note.max_points == 0.0 and note.phrase is not None
    # Adults: the note never appears; both policies give the same list.
    assert ids(listed(POLICY_B, peer_types=SPECIALIST)) == ids(listed(DEFAULT_POLICY, peer_types=SPECIALIST))


def test_the_age_funnel_follows_the_policy() -> None:
    roster_without_cpss = replace(ROSTER[0], certifications=frozenset())
    index = RosterIndex([roster_without_cpss, ROSTER[1]])
    youth = validate_request(request(participant=YOUTH, peer_types=SPECIALIST))

    def age_step(policy: ProgrammePolicy) -> tuple[str, str]:
        result = shortlist(index, youth, k=5, weights=policy.weights, now=NOW, policy=policy)
        assert result.reason is not None and result.reason.constraint == "age_rules"
        step = next(s for s in result.reason.funnel if s.constraint == "age_rules")
        return step.text, result.reason.summary

    assert age_step(DEFAULT_POLICY) == (
        "Serves youth (12-17) in a peer type allowed for that age (none was requested): 0 of 2",
        "Serves youth (12-17) in a peer type allowed for that age (none was requested):"
        " 0 of the 2 peers who pass the earlier checks",
    )
    assert age_step(POLICY_B) == (
        "Serves youth (12-17) as peer specialist holding CPSS: 0 of 2",
        "Serves youth (12-17) as peer specialist holding CPSS: 0 of the 2 peers who pass the earlier checks",
    )
    mixed = validate_request(request(participant=YOUTH, peer_types=SPECIALIST | {PeerType.YOUTH_PEER}))
    result = shortlist(RosterIndex([roster_without_cpss]), mixed, k=5, weights=POLICY_B.weights, now=NOW,
                       policy=POLICY_B)
    assert result.reason is not None
    assert result.reason.summary.startswith("Serves youth (12-17) as youth peer, or as peer specialist holding CPSS:")


def test_a_preferred_certification_is_refused_by_policy_a_and_weighed_by_policy_b() -> None:
    wants = Preferences(certifications=pref("cpss"))  # preferred
    with pytest.raises(InvalidArgument) as err:
        validate_request(request(wants), DEFAULT_POLICY)
    assert err.value.field == "preferences.certifications.strength"
    assert str(err.value).endswith("must be REQUIRED for a certification")
    result = listed(POLICY_B, preferences=wants, peer_types=SPECIALIST)
    assert ids(result) == ["ps-certified", "ps-plain"]  # both serve; the certified one ranks first
    lines = {c.peer_id: [x.line for x in c.contributions] for c in result.candidates}
    assert "Holds CPSS, a certification the participant prefers +2.5" in lines["ps-certified"]
    assert "Does not hold CPSS, a certification the participant prefers +0.0" in lines["ps-plain"]
    assert result.candidates[0].score - result.candidates[1].score == pytest.approx(2.5)


def test_a_preferred_certification_is_not_a_hard_exclusion_in_the_funnel() -> None:
    wants = Preferences(certifications=pref("CPRS"))  # nobody holds it
    checked = validate_request(request(wants, participant=YOUTH, peer_types=frozenset({PeerType.RECOVERY_COACH})),
                               POLICY_B)
    result = shortlist(RosterIndex(ROSTER), checked, k=5, weights=POLICY_B.weights, now=NOW, policy=POLICY_B)
    assert result.reason is not None
    step = next(s for s in result.reason.funnel if s.constraint == "certification")
    assert step.text == "Certification: preferred, not required (weighed in the ranking)"
    assert step.remaining == step.of  # nobody excluded by it
    required = validate_request(request(Preferences(certifications=pref("CPRS", required=True))), POLICY_B)
    gone = shortlist(RosterIndex([peer("rc")]), required, k=5, weights=POLICY_B.weights, now=NOW, policy=POLICY_B)
    assert gone.reason is not None and gone.reason.constraint == "certification"


def test_the_batch_priorities_follow_the_policy() -> None:
    """One peer with room for one: policy A gives it to the urgent newcomer, policy B to the routine request
    that has waited three weeks (B weighs time waited over urgency)."""
    index = RosterIndex([peer("rc", capacity=1)])
    requests = [validate_request(replace(request(), request_id=r)) for r in ("new-urgent", "old-routine")]
    urgency, waited = [2.0, 0.0], [0.0, 3.0]

    def winner(policy: ProgrammePolicy) -> str:
        pm = pair_matrices(index, requests, weights=policy.weights, now=NOW, policy=policy)
        priority = policy.batch.priority(urgency, waited)
        problem = BatchProblem(
            profit=np.where(pm.feasible, pm.fit + priority[:, None], 0.0),
            feasible=pm.feasible,
            load=np.ones(2, np.int64),
            capacity=np.ones(1, np.int64),
            unmatched_penalty=priority,
            side=SideConstraints(),
        )
        assignment = solve(problem, time_limit_s=5).assignment.tolist()
        return pm.request_ids[assignment.index(0)]

    assert list(DEFAULT_POLICY.batch.priority(urgency, waited)) == [10.0, 3.0]
    assert list(POLICY_B.batch.priority(urgency, waited)) == [4.0, 9.0]
    assert winner(DEFAULT_POLICY) == "new-urgent"
    assert winner(POLICY_B) == "old-routine"


def test_every_candidate_of_policy_a_is_unchanged_by_passing_the_built_in_policy() -> None:
    peers: list[Peer] = [*ROSTER, peer("rc")]
    for req in (request(), request(participant=YOUTH, peer_types=SPECIALIST | {PeerType.YOUTH_PEER})):
        checked = validate_request(req)
        plain = shortlist(RosterIndex(peers), checked, k=5, weights=DEFAULT_POLICY.weights, now=NOW)
        given = shortlist(RosterIndex(peers), checked, k=5, weights=DEFAULT_POLICY.weights, now=NOW,
                          policy=DEFAULT_POLICY)
        assert plain == given
