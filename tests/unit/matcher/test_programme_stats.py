"""The matcher's dashboard figures on tiny instances (k = 2 or 3 so small cells show)."""

from __future__ import annotations

from alongside.kit.stats import DAY_MS, WEEK_MS, Bucket, Count, StatsRange
from alongside.matcher.domain.programme_stats import IntakeFact, Intakes, caseload, equity, programme_stats

MONDAY = 4 * DAY_MS + 100 * WEEK_MS  # some Monday, 00:00 UTC
RNG = StatsRange(MONDAY, MONDAY + 3 * WEEK_MS, Bucket.WEEK)
NOW = MONDAY + 3 * WEEK_MS


def test_the_waiting_list_is_rebuilt_from_intake_and_match_times() -> None:
    day = DAY_MS
    intakes = [
        IntakeFact(MONDAY + 1 * day, "ROUTINE", matched_ms=MONDAY + 9 * day),  # waits over week 0's end
        IntakeFact(MONDAY + 2 * day, "ROUTINE", matched_ms=MONDAY + 3 * day),  # matched within week 0
        IntakeFact(MONDAY + 3 * day, "URGENT"),  # still waiting
        IntakeFact(MONDAY + 10 * day, "URGENT", waitlisted=True),
    ]
    stats = programme_stats(Intakes.of(intakes), [], RNG, NOW, k=2)
    week0, week1, week2 = stats.waiting
    assert week0.waiting == Count(2, False)  # the first and the third at the end of week 0
    assert week0.submitted == Count(3, False) and week0.matched == Count(0, True)  # one match: suppressed
    assert week0.age.p90_s == (7 - 1) * 86400
    assert week1.waiting == Count(2, False)  # the third and the fourth
    assert week2.waiting == Count(2, False) and week2.submitted == Count(0, False)


def test_time_to_match_by_urgency_counts_matches_accepted_in_the_range() -> None:
    intakes = [IntakeFact(MONDAY - DAY_MS, "ROUTINE", matched_ms=MONDAY + h * 3_600_000) for h in (1, 2, 3)]
    intakes.append(IntakeFact(MONDAY - 9 * WEEK_MS, "ROUTINE", matched_ms=MONDAY - WEEK_MS))  # before the range
    stats = programme_stats(Intakes.of(intakes), [], RNG, NOW, k=3)
    summary = stats.time_to_match["ROUTINE"]
    assert summary.count == Count(3, False)
    assert summary.p50_s == 86400 + 2 * 3600


def test_waitlisted_now_is_suppressed_below_k() -> None:
    intakes = [IntakeFact(MONDAY, "ROUTINE", waitlisted=True)]
    assert programme_stats(Intakes.of(intakes), [], RNG, NOW, k=5).waitlisted_now.count == Count(0, True)


def test_caseload_is_a_histogram_of_use_and_hides_small_bins() -> None:
    loads = [(10, 0), (10, 1), (10, 5), (10, 5), (4, 4), (3, 4), (0, 0)]
    result = caseload(loads, k=2)
    assert result.active_peers == 6 and result.capacity_units == 47 and result.load_units == 19
    by_lower = {b.lower_percent: b.peers for b in result.bins}
    assert by_lower[50] == Count(2, False) and by_lower[100] == Count(2, False)  # full and over full
    assert by_lower[0] == Count(0, True) and by_lower[10] == Count(0, True)  # one peer each
    assert result.bins[-1].upper_percent == 0 and len(result.bins) == 11


def test_equity_groups_merge_small_languages_into_other() -> None:
    en, so, ti = frozenset({"en"}), frozenset({"so"}), frozenset({"ti"})
    intakes = [
        IntakeFact(MONDAY, "ROUTINE", matched_ms=MONDAY + DAY_MS, languages=en, peer_languages=en),
        IntakeFact(MONDAY, "ROUTINE", matched_ms=MONDAY + DAY_MS, languages=en, peer_languages=so),
        IntakeFact(MONDAY, "ROUTINE", languages=en, languages_required=True),
        IntakeFact(MONDAY, "ROUTINE", matched_ms=MONDAY + DAY_MS, languages=so, peer_languages=so),
        IntakeFact(MONDAY, "ROUTINE", languages=ti, languages_required=True),
        IntakeFact(MONDAY - WEEK_MS, "ROUTINE", languages=ti),  # before the range: not in the cohort
    ]
    groups = {(g.dimension, g.value): g for g in equity(intakes, RNG, NOW, k=3)}
    assert set(groups) == {("language", "en")}  # "other" (so + ti) has 2 < 3: left out
    english = groups[("language", "en")]
    assert english.requests == 3 and english.matched == Count(0, True)  # 2 < 3
    groups2 = {(g.dimension, g.value): g for g in equity(intakes, RNG, NOW, k=2)}
    english = groups2[("language", "en")]
    assert (english.matched, english.preference_met) == (Count(2, False), Count(0, True))
    assert (english.required, english.required_met) == (Count(0, True), Count(0, False))
    k2 = equity(intakes, RNG, NOW, k=2)
    assert [g.value for g in k2] == ["en", "other"]
    other = k2[1]
    assert other.requests == 2 and other.matched == other.preference_met == other.required == Count(0, True)


def test_no_figure_carries_a_tag_of_a_group_below_k() -> None:
    intakes = [IntakeFact(MONDAY, "ROUTINE", cultures=frozenset({f"c{n}"})) for n in range(4)]
    groups = equity(intakes, RNG, NOW, k=3)
    assert [(g.dimension, g.value, g.requests) for g in groups] == [("culture", "other", 4)]
