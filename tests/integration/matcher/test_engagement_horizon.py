"""Availability over the engagement, through the real matcher: a pair that March would break is never offered.

The matcher's clock says 3 March 2027; Chicago moves its clocks on 14 March
and Phoenix never does (issue 16's example).
"""

from __future__ import annotations

from alongside.api.common.v1 import types_pb2
from alongside.api.matcher.v1 import matcher_pb2 as pb

from .conftest import Matcher, intake, peer, upsert


def weekdays(start_hour: float, end_hour: float) -> list[types_pb2.WeeklyWindow]:
    start, end = round(start_hour * 60), round(end_hour * 60)
    return [types_pb2.WeeklyWindow(day=d, start_minute=start, end_minute=end) for d in range(1, 6)]


def chicago_participant(key: str, minutes: int) -> pb.SubmitMatchRequestRequest:
    participant = pb.Participant(
        participant_ref=f"ref-{key}",
        age_band=pb.AGE_BAND_ADULT,
        time_zone="America/Chicago",
        availability=weekdays(8, 9.5),
    )
    return intake(key, participant=participant, session_minutes=minutes)


async def test_a_pair_that_the_march_clock_change_would_break_is_not_shortlisted(matcher: Matcher) -> None:
    await upsert(matcher, peer("phx", time_zone="America/Phoenix", availability=weekdays(7, 9)))
    request = (await matcher.stub.SubmitMatchRequest(chicago_participant("hz-60", 60))).request
    assert request.status == pb.REQUEST_STATUS_WAITLISTED
    assert not request.candidates
    step = next(c for c in request.waitlist_reason.funnel if c.constraint == "availability")
    assert (step.remaining, step.of) == (0, 1)
    assert step.text == "Free at the same time for a 60-minute session each week: 0 of 1"


async def test_the_explanation_says_when_the_overlap_shrinks(matcher: Matcher) -> None:
    await upsert(matcher, peer("phx", time_zone="America/Phoenix", availability=weekdays(7, 9)))
    request = (await matcher.stub.SubmitMatchRequest(chicago_participant("hz-30", 30))).request
    assert [c.peer_id for c in request.candidates] == ["phx"]
    why = next(c for c in request.candidates[0].contributions if c.criterion == "availability")
    assert why.text == "Available together 7 h 30 min a week until 14 March 2027, then 2 h 30 min"
    assert why.phrase.template == "{before} until {until}, then {then}"
    assert [(a.name, a.kind, list(a.values)) for a in why.phrase.args][1:] == [
        ("until", "date", ["2027-03-14"]), ("then", "text", ["2 h 30 min"])]  # fmt: skip
