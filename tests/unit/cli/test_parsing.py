"""Typed text -> protobuf values, and errors that name the field."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.api.scheduler.v1 import scheduler_pb2 as spb
from alongside.cli.errors import CliError, ExitCode
from alongside.cli.parsing import choices, enum_value, instant, timestamp, window, window_text, windows, zone


def test_a_window_reads_like_the_roster_csv() -> None:
    w = window("availability[0]", "Thu 13:30-17:00")
    assert (w.day, w.start_minute, w.end_minute) == (4, 13 * 60 + 30, 17 * 60)
    assert window_text(w) == "thu 13:30-17:00"
    assert window("x", "sun 22:00-24:00").end_minute == 1440


@pytest.mark.parametrize(
    "text", ["mon 9-12", "xyz 09:00-12:00", "mon 12:00-09:00", "mon 09:00-25:00", "mon 09:75-10:00"]
)
def test_a_bad_window_names_the_field_and_the_form(text: str) -> None:
    with pytest.raises(CliError) as info:
        window("participant.availability[1]", text)
    assert info.value.message.startswith("participant.availability[1]: must")
    assert info.value.exit_code == ExitCode.BAD_INPUT


def test_windows_split_on_semicolons_and_number_each() -> None:
    found = windows("w", ["mon 09:00-10:00; tue 09:00-10:00", "wed 09:00-10:00"])
    assert [x.day for x in found] == [1, 2, 3]
    with pytest.raises(CliError, match=r"^w\[2\]: "):
        windows("w", ["mon 09:00-10:00; tue 09:00-10:00", "nope"])


@pytest.mark.parametrize("text", ["recovery_coach", "recovery coach", "RECOVERY-COACH", " Recovery  Coach "])
def test_enum_names_are_forgiving_about_case_and_separators(text: str) -> None:
    assert enum_value("peer_types[0]", pb.PeerType, text) == pb.PEER_TYPE_RECOVERY_COACH


def test_an_unknown_enum_value_lists_the_choices_without_unspecified() -> None:
    with pytest.raises(CliError) as info:
        enum_value("urgency", pb.Urgency, "asap")
    assert info.value.message == "urgency: must be one of routine, priority, urgent"
    assert "unspecified" not in choices(pb.Urgency)


def test_excluded_values_are_refused() -> None:
    with pytest.raises(CliError, match=r"must be one of participant_request, peer_unavailable, match_closed, other$"):
        enum_value("--reason", spb.CancelReason, "rescheduled", exclude=("rescheduled",))


def test_an_instant_without_offset_is_read_in_the_given_zone() -> None:
    chicago = ZoneInfo("America/Chicago")
    moment = instant("--start", "2027-03-04 10:00", chicago)
    assert moment.astimezone(UTC) == datetime(2027, 3, 4, 16, 0, tzinfo=UTC)
    assert instant("--start", "2027-03-04T10:00+01:00", chicago).utcoffset() == timedelta(hours=1)
    assert instant("x", date(2027, 1, 2), chicago) == datetime(2027, 1, 2, tzinfo=chicago)
    assert timestamp(moment).ToDatetime(tzinfo=UTC) == datetime(2027, 3, 4, 16, 0, tzinfo=UTC)


def test_bad_times_and_zones_are_input_errors() -> None:
    with pytest.raises(CliError, match=r"^--to: must be a date or time"):
        instant("--to", "next tuesday")
    with pytest.raises(CliError, match=r"^--tz: must be an IANA time zone"):
        zone("--tz", "Mars/Base")
