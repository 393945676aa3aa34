"""gRPC status -> a message that says what was wrong and what to do."""

from __future__ import annotations

import json

import grpc
import pytest
import typer

from alongside.cli.errors import CliError, ExitCode, from_rpc, handled

ADDRESS = "127.0.0.1:50051"


class FakeRpcError(grpc.RpcError):  # type: ignore[misc]
    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        self._code, self._details = code, details

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details


def mapped(code: grpc.StatusCode, details: str = "d", service: str = "matcher") -> CliError:
    return from_rpc(FakeRpcError(code, details), service, ADDRESS, "cli-abc")


def test_unreachable_names_the_service_address_and_the_fix() -> None:
    error = mapped(grpc.StatusCode.UNAVAILABLE, "failed to connect to all addresses; last error: ...")
    assert error.message.startswith("cannot reach the matcher at 127.0.0.1:50051 — is `make run` running?")
    assert "ALONGSIDE_MATCHER" in error.message
    assert error.exit_code == ExitCode.UNREACHABLE


def test_a_service_whose_dependency_is_down_says_so() -> None:
    error = mapped(grpc.StatusCode.UNAVAILABLE, "a dependency is unavailable; retry", "scheduler")
    assert "the scheduler at 127.0.0.1:50051 is up but cannot reach NATS or Redis" in error.message
    assert "alongside status" in error.message


def test_invalid_argument_puts_the_field_first() -> None:
    error = mapped(grpc.StatusCode.INVALID_ARGUMENT, "participant.time_zone: must be a known IANA time zone")
    assert error.message.startswith(
        "invalid input (INVALID_ARGUMENT): participant.time_zone: must be a known IANA time zone — fix"
    )
    assert (error.exit_code, error.code) == (ExitCode.BAD_INPUT, "INVALID_ARGUMENT")


def test_a_message_over_grpcs_size_limit_is_not_called_busy() -> None:
    error = mapped(grpc.StatusCode.RESOURCE_EXHAUSTED, "CLIENT: Received message larger than max (4366260 vs. 4194304)")
    assert "busy" not in error.message and "capacity" not in error.message
    assert error.message.startswith("the call to the matcher was too large (RESOURCE_EXHAUSTED: CLIENT: Received")
    assert (error.exit_code, error.code) == (ExitCode.BAD_INPUT, "RESOURCE_EXHAUSTED")


def test_a_server_out_of_capacity_says_so_with_its_status() -> None:
    error = mapped(grpc.StatusCode.RESOURCE_EXHAUSTED, "too many watches")
    assert error.message == (
        "the matcher is out of capacity (RESOURCE_EXHAUSTED: too many watches)"
        " — wait a moment and run the command again"
    )


@pytest.mark.parametrize(
    ("code", "start"),
    [
        (grpc.StatusCode.NOT_FOUND, "not found: d — check the id and try again"),
        (grpc.StatusCode.FAILED_PRECONDITION, "cannot do that now: d"),
        (grpc.StatusCode.ABORTED, "someone else changed this at the same time; run the command again"),
        (grpc.StatusCode.PERMISSION_DENIED, "not allowed: d"),
        (grpc.StatusCode.UNAUTHENTICATED, "not signed in: d"),
        (grpc.StatusCode.ALREADY_EXISTS, "already exists: d"),
        (grpc.StatusCode.UNIMPLEMENTED, "the matcher at 127.0.0.1:50051 does not offer this call yet"),
    ],
)
def test_refusals_say_what_and_what_next(code: grpc.StatusCode, start: str) -> None:
    error = mapped(code)
    assert error.message.startswith(start)
    assert error.exit_code == ExitCode.REFUSED
    assert error.code == code.name


@pytest.mark.parametrize(
    ("details", "hint"),
    [
        ("match request not found", "`alongside intake submit`"),
        ("match not found", "`alongside match accept`"),
        ("batch not found", "`alongside batch run`"),
        ("peer not found", "`alongside roster list`"),
        ("session not found", "`alongside sessions list`"),
    ],
)
def test_not_found_says_where_such_ids_come_from(details: str, hint: str) -> None:
    assert hint in mapped(grpc.StatusCode.NOT_FOUND, details).message


def test_deadline_suggests_a_longer_timeout() -> None:
    error = mapped(grpc.StatusCode.DEADLINE_EXCEEDED)
    assert "--timeout" in error.message and error.exit_code == ExitCode.UNREACHABLE


def test_an_unexpected_failure_carries_the_reference_and_the_log() -> None:
    error = mapped(grpc.StatusCode.INTERNAL, "internal error")
    assert "(INTERNAL: internal error) (reference cli-abc)" in error.message
    assert "var/logs/matcher.log" in error.message


class Obj:
    def __init__(self, **kw: object) -> None:
        self.__dict__.update(kw)


def test_handled_prints_one_line_and_exits_with_the_code(capsys: pytest.CaptureFixture[str]) -> None:
    @handled
    def command(ctx: object) -> None:
        raise CliError("cannot do that now: x — try y", ExitCode.REFUSED)

    with pytest.raises(typer.Exit) as info:
        command(ctx=Obj(obj=Obj(config=Obj(json=False))))
    assert info.value.exit_code == 1
    assert capsys.readouterr().err == "error: cannot do that now: x — try y\n"


def test_handled_writes_a_json_error_for_scripts(capsys: pytest.CaptureFixture[str]) -> None:
    @handled
    def command(ctx: object) -> None:
        raise CliError("invalid input: a: b", ExitCode.BAD_INPUT, "INVALID_ARGUMENT")

    with pytest.raises(typer.Exit) as info:
        command(ctx=Obj(obj=Obj(config=Obj(json=True))))
    assert info.value.exit_code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert json.loads(captured.err) == {
        "error": {"message": "invalid input: a: b", "code": "INVALID_ARGUMENT", "exit_code": 2}
    }
