"""``alongside caseload``: bring in a programme's existing active matches."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.cli.clients import idempotency_key
from alongside.cli.errors import ExitCode, handled
from alongside.cli.roster_file import read_roster
from alongside.cli.state import IdempotencyKey, session

app = typer.Typer(help="Existing caseloads: import the active matches a programme already has.", no_args_is_help=True)


@app.command("import")
@handled
def import_caseload(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV: peer_id,participant_ref,acuity,start_date (docs/cli.md).")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check every row against the roster; change nothing.")
    ] = False,
    key: IdempotencyKey = None,
) -> None:
    """Import active matches: one row per match. Each good row becomes an active match and adds its acuity to the
    peer's load; rows that would over-fill a peer, name an unknown peer or hold a bad value are listed by line.
    Pairs (peer, participant) imported before are left as they are, so the same file can be run again.

    Exits 2 when any row was rejected."""
    s = session(ctx)
    data = read_roster(file).encode()  # the same checks: exists, readable, UTF-8
    request = pb.ImportCaseloadRequest(idempotency_key=idempotency_key(key), csv=data, dry_run=dry_run)
    reply = s.clients.matcher.call("ImportCaseload", request)
    if s.out.json:
        errors = [{"line": e.line, "field": e.field, "reason": e.reason} for e in reply.errors]
        s.out.emit(
            {
                "file": str(file),
                "imported": reply.imported,
                "already_imported": reply.already_imported,
                "dry_run": dry_run,
                "errors": errors,
            }
        )
    else:
        verb = "would import" if dry_run else "imported"
        done = f"{file.name}: {verb} {reply.imported} matches"
        if reply.already_imported:
            done += f"; {reply.already_imported} were imported before and are left as they are"
        s.out.text(done + (" (dry run: nothing changed)" if dry_run else ""), style="bold")
        if reply.errors:
            rows = [(e.line, e.field, e.reason) for e in reply.errors]
            s.out.table("Rows not imported", ("line", "field", "problem"), rows)
            s.out.hint("Fix those lines and import the file again; rows already imported are not imported twice.")
    if reply.errors:
        raise typer.Exit(int(ExitCode.BAD_INPUT))
