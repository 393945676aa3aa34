"""Community-group offers: the fit rules, the spread over pathways, a stated
pathway honoured, and the explanations (pure, no servers)."""

from __future__ import annotations

import dataclasses
from dataclasses import replace
from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from alongside.matcher.domain.group_fit import Fit
from alongside.matcher.domain.group_offers import Offer, offer_groups
from alongside.matcher.domain.groups import AGE_AUDIENCES, CommunityGroup, GroupAudience, GroupPathway
from alongside.matcher.domain.model import AgeBand, Modality, Preferences, WeeklyWindow
from tests.unit.matcher.test_model import NOW, participant, pref, request

MONDAY_10 = (WeeklyWindow(0, 10 * 60, 11 * 60),)
BASE = CommunityGroup(
    group_id="g1",
    name="Monday Group",
    pathway=GroupPathway.TWELVE_STEP,
    time_zone="UTC",
    meetings=MONDAY_10,
    languages=frozenset({"en"}),
    modalities=frozenset({Modality.VIDEO}),
)
P = GroupPathway


def group(group_id: str, **changes: Any) -> CommunityGroup:
    return replace(BASE, group_id=group_id, **changes)


def offered(groups: list[CommunityGroup], n: int = 3, pathways: frozenset[GroupPathway] = frozenset(),
            **req: Any) -> list[Offer]:
    return list(offer_groups(groups, request(**req), pathways, n=n, now=NOW))


def ids(offers: list[Offer]) -> list[str]:
    return [o.group.group_id for o in offers]


def test_a_meeting_must_lie_wholly_inside_the_participants_availability() -> None:
    inside = group("in")
    partly = group("partly", meetings=(WeeklyWindow(0, 16 * 60 + 30, 17 * 60 + 30),))  # availability ends 17:00
    other_day = group("tuesday", meetings=(WeeklyWindow(1, 10 * 60, 11 * 60),))
    assert ids(offered([inside, partly, other_day])) == ["in"]


def test_a_meeting_in_another_zone_is_placed_in_utc() -> None:
    # 10:00 in New York is 15:00 UTC in January: inside Monday 9-17 UTC; 13:00 New York (18:00 UTC) is not.
    morning = group("ny-morning", time_zone="America/New_York")
    afternoon = group("ny-afternoon", time_zone="America/New_York", meetings=(WeeklyWindow(0, 13 * 60, 14 * 60),))
    assert ids(offered([morning, afternoon])) == ["ny-morning"]


def test_retired_groups_and_groups_for_another_age_are_not_offered() -> None:
    retired = group("retired", retired=True)
    young = group("young", audiences=frozenset({GroupAudience.YOUNG_PEOPLE}))
    family = group("family", audiences=frozenset({GroupAudience.FAMILIES}))
    women = group("women", audiences=frozenset({GroupAudience.WOMEN}))  # no age audience: adults
    assert ids(offered([retired, young, family, women], n=5)) == ["family", "women"]
    youth = participant(age_band=AgeBand.YOUTH)
    assert ids(offered([retired, young, family, women], n=5, participant=youth)) == ["family", "young"]


def test_in_person_only_in_the_participants_area_and_required_ways_and_languages_hold() -> None:
    hall = group("hall", modalities=frozenset({Modality.IN_PERSON}), area="kent")
    video = group("video")
    spanish = group("spanish", languages=frozenset({"es"}))
    assert ids(offered([hall, video, spanish], n=5)) == ["spanish", "video"]
    near = participant(service_area="kent")
    assert ids(offered([hall, video, spanish], n=5, participant=near))[0] == "hall"  # nearby earns points
    in_person = Preferences(modalities=pref(Modality.IN_PERSON, required=True))
    assert ids(offered([hall, video, spanish], n=5, participant=near, preferences=in_person)) == ["hall"]
    only_es = Preferences(languages=pref("es", required=True))
    assert ids(offered([hall, video, spanish], n=5, preferences=only_es)) == ["spanish"]


def test_with_no_pathway_stated_the_first_three_are_three_approaches() -> None:
    # The twelve-step groups fit best on every criterion; still only one of them leads.
    best = dict(languages=frozenset({"es"}), modalities=frozenset({Modality.PHONE}))
    groups = [group(f"a{i}", **best) for i in range(4)]
    groups += [group("b", pathway=P.SMART_RECOVERY), group("c", pathway=P.RECOVERY_DHARMA)]
    prefs = Preferences(languages=pref("es", "en"), modalities=pref(Modality.PHONE))
    offers = offered(groups, n=5, preferences=prefs)
    assert [o.group.pathway for o in offers[:3]] == [P.TWELVE_STEP, P.SMART_RECOVERY, P.RECOVERY_DHARMA]
    assert ids(offers) == ["a0", "b", "c", "a1", "a2"]


def test_a_stated_pathway_wins_over_groups_that_fit_better_on_every_other_criterion() -> None:
    near = participant(service_area="kent", availability=(WeeklyWindow(0, 9 * 60, 17 * 60),
                                                          WeeklyWindow(2, 9 * 60, 17 * 60)))
    prefs = Preferences(languages=pref("es"), modalities=pref(Modality.IN_PERSON))
    excellent = dict(languages=frozenset({"es"}), modalities=frozenset({Modality.IN_PERSON}), area="kent",
                     meetings=(WeeklyWindow(0, 600, 660), WeeklyWindow(2, 600, 660)))
    better = [group(f"x{i}", pathway=pathway, **excellent) for i, pathway in enumerate(P) if pathway != P.FAMILY]
    wanted = group("fam", pathway=P.FAMILY, audiences=frozenset({GroupAudience.FAMILIES}),
                   meetings=(WeeklyWindow(0, 600, 660), WeeklyWindow(4, 600, 660)))  # one of two meetings fits
    offers = offered([*better, wanted], pathways=frozenset({P.FAMILY}), participant=near, preferences=prefs)
    assert ids(offers) == ["fam"]
    assert all(o.score < offered(better, participant=near, preferences=prefs)[0].score for o in offers)
    assert offers[0].reasons[0].text == "Follows a family and friends approach, a pathway the participant asked for"


def test_several_stated_pathways_are_each_honoured_and_spread() -> None:
    groups = [group("a1"), group("a2"), group("s1", pathway=P.SMART_RECOVERY),
              group("m1", pathway=P.MEDICATION_ASSISTED)]
    offers = offered(groups, pathways=frozenset({P.TWELVE_STEP, P.SMART_RECOVERY}))
    assert ids(offers) == ["a1", "s1", "a2"]


def test_the_ranking_knows_nothing_of_popularity() -> None:
    # The only facts a score is made of: adding a popularity signal would have to change this list.
    assert {f.name for f in dataclasses.fields(Fit)} == {
        "group", "meetings_fit", "language", "ways", "preferred_ways", "nearby"}
    assert {f.name for f in dataclasses.fields(CommunityGroup)} == {
        "group_id", "name", "pathway", "time_zone", "meetings", "languages", "modalities", "area",
        "accessibility", "audiences", "retired"}


def test_each_offer_is_explained_in_plain_words_with_phrases() -> None:
    g = group("g", meetings=(WeeklyWindow(0, 600, 660), WeeklyWindow(3, 600, 660)), accessibility="Step-free access",
              audiences=frozenset({GroupAudience.WOMEN, GroupAudience.LGBTQ}))
    (offer,) = offered([g], preferences=Preferences(languages=pref("en")))
    lines = [c.text for c in offer.reasons]
    assert lines == [
        "Follows a twelve-step fellowship; offered beside other pathways for the participant to choose",
        "For women and LGBTQ+ people",
        "Meets in English (preferred language)",
        "Meets at a time the participant is free: 1 of its 2 weekly meetings",
        "Can meet by video",
        "Accessibility: Step-free access",
    ]
    assert offer.score == 1.5
    assert all(c.phrase is not None and c.phrase.template for c in offer.reasons)


def test_nothing_fits_means_no_offer_and_zero_asks_for_none() -> None:
    assert offered([group("x", retired=True)]) == []
    assert offered([group("x")], n=0) == []


PATHWAYS = st.sampled_from(list(P))


@st.composite
def directories(draw: st.DrawFn) -> list[CommunityGroup]:
    size = draw(st.integers(0, 14))
    out = []
    for i in range(size):
        fits = draw(st.booleans())
        out.append(group(
            f"g{i:02d}",
            pathway=draw(PATHWAYS),
            retired=not fits,
            languages=frozenset(draw(st.sets(st.sampled_from(["en", "es"]), min_size=1))),
            modalities=frozenset(draw(st.sets(st.sampled_from([Modality.VIDEO, Modality.PHONE]), min_size=1))),
            meetings=(WeeklyWindow(0, draw(st.integers(9, 15)) * 60, 16 * 60),),
        ))
    return out


@settings(max_examples=300, deadline=None)
@given(directories(), st.frozensets(PATHWAYS, max_size=3), st.integers(1, 6), st.randoms())
def test_property_offers_honour_pathways_and_spread_when_none_stated(
    directory: list[CommunityGroup], stated: frozenset[GroupPathway], n: int, rnd: Any
) -> None:
    prefs = Preferences(languages=pref("es"), modalities=pref(Modality.PHONE))
    offers = offered(directory, n=n, pathways=stated, preferences=prefs)
    fitting = [g for g in directory if not g.retired and (not stated or g.pathway in stated)]
    assert len(offers) == min(n, len(fitting))
    assert all(not o.group.retired for o in offers)
    if stated:
        assert all(o.group.pathway in stated for o in offers)
    first = [o.group.pathway for o in offers[:3]]
    assert len(set(first)) == min(len(first), len({g.pathway for g in fitting}))
    shuffled = list(directory)
    rnd.shuffle(shuffled)
    assert ids(offered(shuffled, n=n, pathways=stated, preferences=prefs)) == ids(offers)  # order of entry: no signal


def test_every_age_band_has_an_age_audience() -> None:
    assert set().union(*AGE_AUDIENCES.values()) == set(AgeBand)


def test_a_meeting_must_suit_the_participant_in_every_week_of_the_engagement_horizon() -> None:
    # Chicago changes its clocks on 8 March 2026, Phoenix never: a Phoenix 07:00 meeting is 08:00 in Chicago in
    # January and 09:00 from March, so an hour-long one leaves a Chicago 08:00-09:30 window then.
    chicago = participant(time_zone="America/Chicago", availability=(WeeklyWindow(0, 8 * 60, 9 * 60 + 30),))
    hour = group("hour", time_zone="America/Phoenix", meetings=(WeeklyWindow(0, 7 * 60, 8 * 60),))
    half = group("half", time_zone="America/Phoenix", meetings=(WeeklyWindow(0, 7 * 60, 7 * 60 + 30),))
    mixed = group("mixed", time_zone="America/Phoenix", meetings=(*hour.meetings, WeeklyWindow(0, 7 * 60, 7 * 60 + 30)))
    weeks26 = timedelta(weeks=26)
    this_week = offer_groups([hour, half], request(participant=chicago), frozenset(), n=3, now=NOW)
    assert ids(list(this_week)) == ["half", "hour"], "in January both lie inside 08:00-09:30"
    engagement = offer_groups([hour, half, mixed], request(participant=chicago), frozenset(), n=3, now=NOW,
                              horizon=weeks26)
    assert ids(list(engagement)) == ["half", "mixed"], "the hour-long one breaks on 8 March"
    assert [o.score for o in engagement if o.group.group_id == "mixed"] == [0.5], "one of its two meetings counts"
    before_march = offer_groups([hour], request(participant=chicago), frozenset(), n=3, now=NOW,
                                horizon=timedelta(weeks=6))
    assert ids(list(before_march)) == ["hour"], "a horizon that ends before the change keeps it"
