"""The root command's own ``main``: every error one line, Ctrl-C exit 130.

Typer draws a usage error (a missing option, a bad value) as a multi-line
box; ``docs/cli.md`` promises one line on stderr (one JSON object with
``--json``) and exit code 2, like every other input error. Ctrl-C anywhere
exits 130.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

import typer
from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError
from typer.core import TyperGroup

from alongside.cli.errors import CliError, ExitCode, report

INTERRUPTED = 130


def _json_mode(args: Sequence[str]) -> bool:
    return "--json" in args or os.environ.get("ALONGSIDE_JSON", "").lower() in ("1", "true", "yes", "on")


def usage_error(exc: UsageError) -> CliError:
    where = exc.ctx.command_path if exc.ctx is not None else "alongside"
    message = " ".join(exc.format_message().split())
    return CliError(f"{message} — see `{where} --help`", ExitCode.BAD_INPUT, "USAGE")


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
