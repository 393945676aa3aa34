"""What every command needs, built once per invocation by the root callback."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import typer

from alongside.cli.clients import Clients
from alongside.cli.config import Config
from alongside.cli.output import Output


@dataclass
class Session:
    config: Config
    out: Output
    clients: Clients


def session(ctx: typer.Context) -> Session:
    found = ctx.find_root().obj
    if not isinstance(found, Session):  # only when a command is invoked without the root app
        raise RuntimeError("the alongside root callback did not run")
    return found


IdempotencyKey = Annotated[
    str | None,
    typer.Option(
        "--idempotency-key",
        help="Retry-safe key for this change; the same key returns the first result. Default: a new one.",
    ),
]

PageToken = Annotated[
    str,
    typer.Option("--page-token", help="Continue after the page that printed this token.", show_default=False),
]
