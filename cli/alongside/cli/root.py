"""The root command's own ``main``: every error one line, Ctrl-C exit 130,
and help without Typer's type placeholders.

Typer draws a usage error (a missing option, a bad value) as a multi-line
box; ``docs/cli.md`` promises one line on stderr (one JSON object with
``--json``) and exit code 2, like every other input error. Ctrl-C anywhere
exits 130. Help shows arguments as ``FILE`` (not ``{file}``) and flags
without a ``<bool>`` type.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import version as package_version
from types import SimpleNamespace
from typing import Any

import typer
from typer._click.core import Command
from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError
from typer.core import TyperArgument, TyperGroup, TyperOption

from alongside.cli.errors import CliError, ExitCode, report

INTERRUPTED = 130


def _json_mode(args: Sequence[str]) -> bool:
    return "--json" in args or os.environ.get("ALONGSIDE_JSON", "").lower() in ("1", "true", "yes", "on")


def usage_error(exc: UsageError) -> CliError:
    where = exc.ctx.command_path if exc.ctx is not None else "alongside"
    message = " ".join(exc.format_message().split())
    return CliError(f"{message} — see `{where} --help`", ExitCode.BAD_INPUT, "USAGE")


def tidy_help(command: Command) -> None:
    """Arguments read as ``FILE`` in usage and help; flags show no type."""
    for param in command.params:
        if isinstance(param, TyperArgument):
            name = (param.metavar or param.name or "").upper()
            param.metavar = name
            usage = (name if param.required else f"[{name}]") + ("..." if param.nargs != 1 else "")
            # Typer wraps a required argument in braces on the usage line; this instance reads plainly.
            param._usage_display_name = _constant(usage)  # type: ignore[method-assign]
        elif isinstance(param, TyperOption) and param.is_flag:
            param.metavar = ""
    # --help is made on first use (and kept); make it now, so it reads like the other flags.
    help_option = command.get_help_option(SimpleNamespace(help_option_names=["--help"]))  # type: ignore[arg-type]
    if help_option is not None:
        help_option.metavar = ""
    for sub in getattr(command, "commands", {}).values():
        tidy_help(sub)


def _constant(text: str) -> Callable[[], str]:
    return lambda: text


def version_callback(value: bool) -> None:
    if value:
        typer.echo(f"alongside {package_version('alongside')}")
        raise typer.Exit(0)


class RootGroup(TyperGroup):
    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        argv = list(sys.argv[1:] if args is None else args)
        tidy_help(self)
        try:
            code = super().main(argv, prog_name, complete_var, False, **extra)
        except NoArgsIsHelpError as exc:
            exc.show()
            sys.exit(int(ExitCode.BAD_INPUT))
        except UsageError as exc:
            report(usage_error(exc), _json_mode(argv))
            sys.exit(int(ExitCode.BAD_INPUT))
        except ClickException as exc:
            report(CliError(" ".join(exc.format_message().split()), ExitCode.BAD_INPUT, "USAGE"), _json_mode(argv))
            sys.exit(int(ExitCode.BAD_INPUT))
        except (typer.Abort, KeyboardInterrupt):
            sys.exit(INTERRUPTED)
        sys.exit(code if isinstance(code, int) else 0)
