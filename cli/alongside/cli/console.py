"""``alongside console``: the web console, against the services this command finds.

The console reads its own settings from the environment (docs/console.md);
this fills in what the CLI already knows: the three services' addresses and,
with ``--dev-sign-in``, the development secret (``var/dev-auth-secret``).
"""

from __future__ import annotations

import os
from typing import Annotated

import typer

from alongside.cli.credentials import dev_secret
from alongside.cli.errors import CliError, ExitCode, handled
from alongside.cli.state import Session, session


def env_for(current: Session, addr: str, dev_sign_in: bool, source: dict[str, str]) -> dict[str, str]:
    """The console's environment: what is set already wins over what the CLI fills in."""
    env = dict(source)
    for name, address in current.config.addresses.items():
        env.setdefault(f"{name.upper()}_ADDR", address)
    env.setdefault("CONSOLE_ADDR", addr)
    if dev_sign_in:
        secret = dev_secret(source, current.config.found)
        if not secret:
            raise CliError(
                "--dev-sign-in needs the development secret: run `make run` first, or set AUTH_HS256_SECRET",
                ExitCode.BAD_INPUT,
            )
        env.update(DEV_SIGN_IN="true", AUTH_HS256_SECRET=secret)
    return env


@handled
def console(
    ctx: typer.Context,
    addr: Annotated[str, typer.Option("--addr", help="Where the console listens (host:port).")] = "127.0.0.1:8080",
    dev_sign_in: Annotated[
        bool, typer.Option("--dev-sign-in", help="Development sign-in (loopback only; needs the development secret).")
    ] = False,
) -> None:
    """Run the web console (docs/console.md) against the services this command uses."""
    from alongside.console.__main__ import main as run_console

    os.environ.update(env_for(session(ctx), addr, dev_sign_in, dict(os.environ)))
    raise typer.Exit(run_console())
