"""``alongside login``: remember which stack the CLI talks to, from any folder."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from alongside.cli.discovery import is_stack_folder, read_stack, user_config_file
from alongside.cli.errors import CliError, ExitCode, handled
from alongside.cli.state import session


@handled
def login(
    ctx: typer.Context,
    data_folder: Annotated[
        Path | None,
        typer.Argument(
            help="The data folder of your `make run` (its var/). Default: the one the CLI finds now.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Write the user's config file so the CLI finds this stack (endpoints, development secret) from any folder."""
    s = session(ctx)
    if data_folder is None:
        if s.config.found.stack is None:
            raise CliError(
                "no `make run` data folder found here: give it, e.g. `alongside login ~/alongside/var`",
                ExitCode.BAD_INPUT,
            )
        data_folder = s.config.found.stack.data_dir
    folder = data_folder.expanduser().resolve()
    if not is_stack_folder(folder):
        raise CliError(
            f"{folder} is not a `make run` data folder (it has no endpoints.json or dev-auth-secret)",
            ExitCode.BAD_INPUT,
        )
    target = user_config_file(os.environ)
    if target is None:
        raise CliError("neither XDG_CONFIG_HOME nor HOME is set: the CLI has nowhere to write", ExitCode.BAD_INPUT)
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps({"data_dir": str(folder)}, indent=2) + "\n")
    tmp.chmod(0o600)
    tmp.replace(target)
    stack = read_stack(folder)
    state = f"running as stack {stack.stack_id}" if stack.running else "not running now"
    if s.out.json:
        s.out.emit({"config": str(target), "data_dir": str(folder), "running": stack.running})
    else:
        s.out.text(f"Wrote {target}: the CLI talks to the stack in {folder} ({state}) from any folder.")
        s.out.hint("Next: alongside status")
