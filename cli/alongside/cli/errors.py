"""From a failure to a message that says what was wrong and what to do.

Commands raise ``CliError``; gRPC failures become one through ``from_rpc``.
``handled`` wraps every command so the user sees one line on stderr (or one
JSON object with ``--json``) and an exit code, never a traceback.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from enum import IntEnum
from typing import Any, ParamSpec, TypeVar

import grpc
import typer

P = ParamSpec("P")
R = TypeVar("R")


class ExitCode(IntEnum):
    OK = 0
    # The service answered but refused or failed (not found, wrong state, ...).
    REFUSED = 1
    # The input was wrong: flags, files, or INVALID_ARGUMENT from a service.
    BAD_INPUT = 2
    # A service could not be reached or did not answer in time.
    UNREACHABLE = 3


class CliError(Exception):
    """A failure the user can act on; ``message`` says what and what to do."""

    def __init__(self, message: str, exit_code: ExitCode = ExitCode.REFUSED, code: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
        self.code = code


_REFUSED = {
    grpc.StatusCode.NOT_FOUND: "not found: {d} — {hint}",
    grpc.StatusCode.ALREADY_EXISTS: "already exists: {d} — use the existing one or choose another id",
    grpc.StatusCode.FAILED_PRECONDITION: "cannot do that now: {d} — check its current state and try another action",
    grpc.StatusCode.ABORTED: "someone else changed this at the same time; run the command again",
    grpc.StatusCode.PERMISSION_DENIED: "not allowed: {d} — ask an administrator for a role that may do this",
    grpc.StatusCode.UNAUTHENTICATED: "not signed in: {d} — check your access token",
    grpc.StatusCode.RESOURCE_EXHAUSTED: "the {s} is out of capacity (RESOURCE_EXHAUSTED: {d}) — wait a moment and run"
    " the command again",
    grpc.StatusCode.UNIMPLEMENTED: "the {s} at {a} does not offer this call yet — update the service and try again",
    grpc.StatusCode.CANCELLED: "the call to the {s} was cancelled — run the command again",
}
# Where the ids come from, by the noun in the service's message (first match wins).
_ID_HINTS = (
    ("match request", "request ids come from `alongside intake submit` and `alongside intake waitlist`"),
    ("batch", "batch ids come from `alongside batch run`"),
    ("match", "match ids come from `alongside match accept` and `alongside batch confirm`"),
    (
        "peer calendar",
        "the scheduler learns a peer's hours from the roster: check the id with `alongside roster list`"
        " and that the peer has availability",
    ),
    ("peer", "`alongside roster list` shows the peer ids"),
    ("session", "`alongside sessions list` shows the session ids"),
    ("series", "`alongside sessions list` shows the session ids"),
    ("notification", "`alongside notifications list PEER` shows the notification ids"),
    ("time off", "check the time-off id"),
)


def from_rpc(exc: grpc.RpcError, service: str, address: str, correlation_id: str = "") -> CliError:
    """The friendly error for a failed call to ``service`` at ``address``."""
    code: grpc.StatusCode = exc.code()  # type: ignore[attr-defined]
    details: str = exc.details() or "no details"  # type: ignore[attr-defined]
    name = code.name if code is not None else "UNKNOWN"
    if code == grpc.StatusCode.UNAVAILABLE:
        if "dependency" in details:
            return CliError(
                f"the {service} at {address} is up but cannot reach NATS or Redis — run `alongside status`,"
                " fix what is down, then run the command again",
                ExitCode.UNREACHABLE,
                name,
            )
        return CliError(
            f"cannot reach the {service} at {address} — is `make run` running?"
            f" (set ALONGSIDE_{service.upper()} if it listens elsewhere)",
            ExitCode.UNREACHABLE,
            name,
        )
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return CliError(
            f"the {service} at {address} did not answer in time — run the command again, or give it longer"
            " with `alongside --timeout SECONDS ...`",
            ExitCode.UNREACHABLE,
            name,
        )
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        return CliError(
            f"invalid input (INVALID_ARGUMENT): {details} — fix that value and run the command again",
            ExitCode.BAD_INPUT,
            name,
        )
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED and "larger than max" in details:
        # gRPC's own size limit, on either side: not a busy server, and waiting will not help.
        return CliError(
            f"the call to the {service} was too large (RESOURCE_EXHAUSTED: {details}) — send less at once"
            " (for example fewer rows per call with --chunk-size, or a smaller --limit)",
            ExitCode.BAD_INPUT,
            name,
        )
    template = _REFUSED.get(code)
    if template is not None:
        hint = next((h for noun, h in _ID_HINTS if noun in details.lower()), "check the id and try again")
        text = template.format(d=details, s=service, a=address, hint=hint)
        return CliError(text, ExitCode.REFUSED, name)
    reference = f" (reference {correlation_id})" if correlation_id else ""
    return CliError(
        f"the {service} failed unexpectedly ({name}: {details}){reference} — see its log"
        f" (var/logs/{service}.log under `make run`) and report it if it happens again",
        ExitCode.REFUSED,
        name,
    )


def report(error: CliError, as_json: bool) -> None:
    """Write ``error`` to stderr: one line, or one JSON object for scripts."""
    if as_json:
        payload = {"error": {"message": error.message, "code": error.code, "exit_code": int(error.exit_code)}}
        sys.stderr.write(json.dumps(payload) + "\n")
    else:
        sys.stderr.write(f"error: {error.message}\n")
    sys.stderr.flush()


def handled(command: Callable[P, R]) -> Callable[P, R]:
    """Turn a command's ``CliError`` into a message and an exit code.

    The JSON flag is read from the command's ``ctx`` (the root callback puts
    the session there); errors raised before that are reported as text.
    """

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except CliError as exc:
            report(exc, _json_mode(kwargs.get("ctx")))
            raise typer.Exit(int(exc.exit_code)) from None

    return wrapper


def _json_mode(ctx: Any) -> bool:
    config = getattr(getattr(ctx, "obj", None), "config", None)
    return bool(getattr(config, "json", False))
