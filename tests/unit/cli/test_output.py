"""Tables for people, JSON for scripts."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.cli.output import Output, label, labels, local, to_dict, when
from alongside.cli.views import why


def test_enum_labels_read_as_words() -> None:
    assert label(pb.PeerType, pb.PEER_TYPE_RECOVERY_COACH) == "recovery coach"
    assert labels(pb.AgeBand, [pb.AGE_BAND_YOUTH, pb.AGE_BAND_YOUNG_ADULT]) == "youth, young adult"
    assert label(pb.PeerType, 99) == "99"  # a newer server's value still prints


def test_times_print_plainly() -> None:
    assert when(Timestamp()) == ""
    stamp = Timestamp()
    stamp.FromDatetime(datetime(2027, 3, 2, 14, 26, 59, tzinfo=UTC))
    assert when(stamp) == "2027-03-02 14:26 UTC"
    assert local("2027-03-04T10:00:00-05:00") == "Thu 2027-03-04 10:00 -05:00"
    assert local("not a time") == "not a time"


def test_to_dict_keeps_proto_names_enum_names_and_defaults() -> None:
    found = to_dict(pb.Match(match_id="m-1", status=pb.MATCH_STATUS_ACTIVE))
    assert found["match_id"] == "m-1" and found["status"] == "MATCH_STATUS_ACTIVE"
    assert found["acuity"] == 0 and found["peer_id"] == ""  # present even when unset, for scripts


def test_cells_are_printed_literally_never_as_markup(capsys: pytest.CaptureFixture[str]) -> None:
    Output(json_mode=False).table("Peers", ("name",), [("[bold red]Demo[/]",)])
    assert "[bold red]Demo[/]" in capsys.readouterr().out


def test_json_goes_to_stdout_and_hints_are_silent(capsys: pytest.CaptureFixture[str]) -> None:
    out = Output(json_mode=True)
    out.emit({"a": 1})
    out.hint("next: do this")
    captured = capsys.readouterr()
    assert json.loads(captured.out) == {"a": 1} and captured.err == ""
    assert out.progress().disable


def test_hints_go_to_stderr_for_people(capsys: pytest.CaptureFixture[str]) -> None:
    Output(json_mode=False).hint("next: alongside batch confirm b-1")
    captured = capsys.readouterr()
    assert captured.out == "" and "alongside batch confirm b-1" in captured.err


def test_muted_output_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    out = Output.muted()
    out.table("T", ("a",), [("1",)])
    out.hint("h")
    assert capsys.readouterr() == ("", "")


def test_why_lists_requirements_met_then_points() -> None:
    candidate = pb.Candidate(
        peer_id="p",
        contributions=[
            pb.Contribution(criterion="language", points=0, max_points=0, text="Speaks Somali (required)"),
            pb.Contribution(criterion="culture", points=1.5, max_points=2, text="Shares a cultural identity"),
        ],
    )
    assert why(candidate) == "✔ Speaks Somali (required)\n+1.5 Shares a cultural identity"
