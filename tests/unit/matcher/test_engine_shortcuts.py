"""The online engine's shortcuts give the answers the long way would.

Remembered age masks, the engagement kept for the day, the two top-k paths and the
quick window check are there for speed only; each test pins one of them to
the plain computation.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from alongside.kit.errors import InvalidArgument
from alongside.matcher.domain import availability as av
from alongside.matcher.domain import constraints as c
from alongside.matcher.domain.model import AgeBand, PeerType, WeeklyWindow
from alongside.matcher.domain.query import compile_query
from alongside.matcher.domain.roster_index import RosterIndex
from alongside.matcher.domain.shortlist import FULL_SORT_LIMIT, top_k
from alongside.matcher.domain.validation import validate_request
from alongside.matcher.domain.validation_rules import check_enum
from tests.unit.matcher.test_model import NOW, participant, peer, request

COACH, YOUTH_PEER, FAMILY = PeerType.RECOVERY_COACH, PeerType.YOUTH_PEER, PeerType.FAMILY_PEER


@pytest.mark.parametrize("size", [1, 5, FULL_SORT_LIMIT - 1, FULL_SORT_LIMIT, FULL_SORT_LIMIT + 1, 2000])
def test_top_k_matches_a_full_stable_sort(size: int) -> None:
    rng = np.random.default_rng(size)
    scores = rng.integers(0, 8, size).astype(np.float64) / 4  # few distinct values: many ties
    for k in (1, 5, 50):
        assert top_k(scores, k).tolist() == np.argsort(-scores, kind="stable")[:k].tolist()


def test_age_masks_are_remembered_per_age_and_peer_types() -> None:
    index = RosterIndex(
        [
            peer("coach"),
            peer("youth", types=frozenset({YOUTH_PEER}), age_groups=frozenset({AgeBand.YOUTH})),
            peer("family", types=frozenset({FAMILY}), age_groups=frozenset({AgeBand.CHILD, AgeBand.YOUTH})),
        ]
    )

    def passing(**changes: Any) -> list[str]:
        mask = c.age_rules(index, compile_query(index, request(**changes), now=NOW))
        assert mask is not None
        return [pid for pid, ok in zip(index.peer_ids, mask.tolist(), strict=True) if ok]

    minors = frozenset({YOUTH_PEER, FAMILY})
    youth = participant(age_band=AgeBand.YOUTH)
    assert passing() == ["coach"]
    assert passing() == ["coach"]  # from the memo
    assert passing(participant=youth, peer_types=minors) == ["family", "youth"]
    assert passing(participant=participant(age_band=AgeBand.CHILD), peer_types=minors) == ["family"]
    assert passing(participant=youth, peer_types=frozenset({COACH})) == []
    assert passing() == ["coach"]


def test_the_engagement_is_kept_for_the_day_and_weeks_are_shared_between_zones() -> None:
    index = RosterIndex([peer("a", time_zone="America/Chicago"), peer("b", time_zone="Europe/London")])
    morning = datetime(2026, 12, 6, 0, 0, 1, tzinfo=UTC)
    first = index.engagement(morning, "America/Phoenix")
    assert index.engagement(morning + timedelta(hours=23), "America/Phoenix") is first
    assert index.engagement(morning + timedelta(days=1), "America/Phoenix") is not first
    # Chicago changes on Sunday 14 March, London on Sunday 28 March, Phoenix never: this week stands for
    # every week until the one of 14 March, which differs on its Sunday; then a week of each kind again.
    mondays = ["2026-11-30", "2027-03-08", "2027-03-15", "2027-03-22", "2027-03-29"]
    assert [s.start.date().isoformat() for s in first.stretches] == mondays
    # A participant zone adds no peers' week of its own: Phoenix and UTC see the same ones.
    weeks = [s.week for s in index.engagement(morning, "UTC").stretches]
    assert all(a is b for a, b in zip(weeks, [s.week for s in first.stretches], strict=True))
    new_york = datetime(2026, 12, 6, 20, 0, tzinfo=ZoneInfo("America/New_York"))  # already 7 December in UTC
    assert index.engagement(new_york, "America/Phoenix").start == datetime(2026, 12, 7, tzinfo=UTC)
    assert len(index.engagement(morning, "UTC", timedelta(0)).stretches) == 1  # this week only


def test_participant_week_keeps_only_the_words_in_use() -> None:
    mine = av.participant_week((WeeklyWindow(0, 9 * 60, 10 * 60),), ((0, 0, av.SLOTS_PER_WEEK),), 2)
    full = av.to_words(mine.bits)
    assert mine.used.tolist() == np.flatnonzero(full).tolist()
    assert mine.words[:, 0].tolist() == full[mine.used].tolist()
    assert not mine.words.flags.writeable and not mine.run_words.flags.writeable


@pytest.mark.parametrize(
    ("window", "field"),
    [
        (WeeklyWindow(True, 60, 120), "participant.availability[0].day"),  # a bool is not a day
        (WeeklyWindow(0, False, 120), "participant.availability[0].start_minute"),
        (WeeklyWindow(0, 60, 60), "participant.availability[0]"),
        (WeeklyWindow(0, 60, 1441), "participant.availability[0].end_minute"),
        (WeeklyWindow(-1, 60, 120), "participant.availability[0].day"),
    ],
)
def test_the_quick_window_check_lets_nothing_odd_through(window: WeeklyWindow, field: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        validate_request(request(participant=participant(availability=(window,))))
    assert err.value.field == field


def test_enum_members_and_names_both_become_members() -> None:
    assert check_enum("f", AgeBand.YOUTH, AgeBand) is AgeBand.YOUTH
    name: Any = "YOUTH"
    assert check_enum("f", name, AgeBand) is AgeBand.YOUTH
    with pytest.raises(InvalidArgument):
        check_enum("f", PeerType.YOUTH_PEER, AgeBand)
