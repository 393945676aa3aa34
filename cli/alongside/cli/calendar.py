"""``alongside calendar export PEER > peer.ics``: a peer's sessions as iCalendar."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from alongside.api.scheduler.v1 import scheduler_pb2 as pb
from alongside.cli.errors import CliError, ExitCode, handled
from alongside.cli.state import session

app = typer.Typer(help="Calendars: export a peer's sessions as an .ics file.", no_args_is_help=True)


@app.command("export")
@handled
def export(
    ctx: typer.Context,
    peer_id: Annotated[str, typer.Argument(help="Peer id.")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")] = None,
) -> None:
    """Print the peer's RFC 5545 calendar; subscribe to it or import it into a calendar app."""
    s = session(ctx)
    ics: str = s.clients.scheduler.call("GetCalendarFeed", pb.GetCalendarFeedRequest(peer_id=peer_id)).ics
    if s.out.json:
        s.out.emit({"peer_id": peer_id, "ics": ics})
    elif output is not None:
        try:
            output.write_text(ics, encoding="utf-8", newline="")
        except OSError as exc:
            raise CliError(
                f"{output}: cannot be written ({type(exc).__name__}) — check the folder exists", ExitCode.BAD_INPUT
            ) from None
        s.out.hint(f"wrote {output} ({ics.count('BEGIN:VEVENT')} sessions)")
    else:
        # Unformatted: the feed's CRLF line ends must reach the file as they are.
        sys.stdout.write(ics)
        sys.stdout.flush()
