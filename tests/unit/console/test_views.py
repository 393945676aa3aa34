"""The templates' helpers: times in the person's zone, dates in the page's language, contribution bars."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp

from alongside.api.matcher.v1 import matcher_pb2 as mpb
from alongside.console import i18n, views


def test_a_timestamp_shows_in_the_persons_zone_or_utc() -> None:
    stamp = Timestamp()
    stamp.FromDatetime(datetime(2026, 12, 7, 13, 30, tzinfo=UTC))
    assert views.local_time(stamp, "America/Chicago") == "2026-12-07 07:30 CST"
    assert views.local_time(stamp, "") == "2026-12-07 13:30 UTC"
    assert views.local_time(stamp, "Not/AZone") == "2026-12-07 13:30 UTC"


def test_dates_follow_the_page_language() -> None:
    i18n.load()
    i18n.activate("es")
    try:
        assert views.longdate("2026-12-07") == "lunes, 7 de diciembre de 2026"
    finally:
        i18n.activate("en")
    assert views.longdate("not a date") == "not a date"


def test_contribution_segments_are_scaled_to_full_marks_and_stacked() -> None:
    parts = [mpb.Contribution(points=1, max_points=2), mpb.Contribution(points=0.5, max_points=2),
             mpb.Contribution(points=-1, max_points=0)]
    assert views.segments(parts) == [
        {"x": 0.0, "width": 25.0, "colour": 0},
        {"x": 25.0, "width": 12.5, "colour": 1},
        {"x": 37.5, "width": 0.0, "colour": 2},
    ]
