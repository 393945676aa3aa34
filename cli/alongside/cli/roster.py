"""``alongside roster``: import a CSV roster, list and show peers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.cli.clients import idempotency_key
from alongside.cli.errors import CliError, ExitCode, handled
from alongside.cli.output import label, labels, to_dict
from alongside.cli.parsing import enum_value, window_text
from alongside.cli.roster_file import RowProblem, Split, read_roster, split_roster
from alongside.cli.state import IdempotencyKey, PageToken, Session, session

app = typer.Typer(help="The peer roster: import a CSV, list and show peers.", no_args_is_help=True)


@app.command("import")
@handled
def import_roster(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Roster CSV (columns: docs/cli.md).")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check every row; import nothing.")] = False,
    chunk_size: Annotated[int, typer.Option(help="Rows sent per call.")] = 100,
    key: IdempotencyKey = None,
) -> None:
    """Import peers from a CSV. Good rows are imported, bad rows are listed by line with the reason.

    Exits 2 when any row was rejected."""
    s = session(ctx)
    split = split_roster(read_roster(file), chunk_size)
    imported, problems = send_roster(s, split, idempotency_key(key), dry_run, file.name)
    _show_import(s, file, split.rows, imported, problems, dry_run)
    if problems:
        raise typer.Exit(int(ExitCode.BAD_INPUT))


def send_roster(s: Session, split: Split, key: str, dry_run: bool, name: str) -> tuple[int, list[RowProblem]]:
    """Send every chunk with a progress bar; the rows imported and every problem, by file line."""
    problems, imported = list(split.problems), 0
    with s.out.progress() as progress:
        task = progress.add_task(f"{'checking' if dry_run else 'importing'} {name}", total=split.rows)
        progress.advance(task, len(split.problems))
        for i, chunk in enumerate(split.chunks):
            request = pb.ImportRosterRequest(idempotency_key=f"{key}:{i}", csv=chunk.csv, dry_run=dry_run)
            try:
                reply = s.clients.matcher.call("ImportRoster", request)
            except CliError as exc:
                raise _interrupted(exc, imported, key) from None
            imported += reply.imported
            problems += [RowProblem(chunk.file_line(e.line), e.field, e.reason) for e in reply.errors]
            progress.advance(task, len(chunk.lines))
    return imported, sorted(problems, key=lambda p: p.line)


def _interrupted(exc: CliError, imported: int, key: str) -> CliError:
    if not imported:
        return exc
    return CliError(
        f"{exc.message}. {imported} rows were imported before this; to finish, run the same command with"
        f" --idempotency-key {key} (rows already sent are not sent twice)",
        exc.exit_code,
        exc.code,
    )


def _show_import(s: Session, file: Path, rows: int, imported: int, problems: list[RowProblem], dry: bool) -> None:
    if s.out.json:
        errors = [{"line": p.line, "field": p.field, "reason": p.reason} for p in problems]
        s.out.emit({"file": str(file), "rows": rows, "imported": imported, "dry_run": dry, "errors": errors})
        return
    good = rows - len(problems)
    verb = f"{good} of {rows} rows are valid (dry run: nothing imported)" if dry else f"imported {imported} of {rows}"
    s.out.text(f"{file.name}: {verb}", style="bold")
    if problems:
        rows_out = [(p.line, p.field, p.reason) for p in problems]
        s.out.table("Rows not imported", ("line", "field", "problem"), rows_out)
        s.out.hint("Fix those lines and import the file again; peers already imported are updated, not duplicated.")


@app.command("list")
@handled
def list_peers(
    ctx: typer.Context,
    peer_type: Annotated[str | None, typer.Option("--type", help="e.g. recovery_coach, youth_peer.")] = None,
    status: Annotated[str | None, typer.Option(help="active, on_leave or inactive.")] = None,
    language: Annotated[str | None, typer.Option(help="Language code, e.g. so, es, ase (ASL).")] = None,
    area: Annotated[str | None, typer.Option(help="Service area.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many peers; 0 for all.")] = 50,
    page_token: PageToken = "",
) -> None:
    """List peers on the roster, with their caseload (load/capacity in acuity units)."""
    s = session(ctx)
    request = pb.ListPeersRequest(language=language or "", service_area=area or "", page_token=page_token)
    if peer_type:
        request.type = enum_value("--type", pb.PeerType, peer_type)
    if status:
        request.status = enum_value("--status", pb.PeerStatus, status)
    listing = s.clients.matcher.page("ListPeers", request, "peers", max(limit, 0))
    peers = listing.items
    if s.out.json:
        s.out.emit(listing.json("peers", [to_dict(p) for p in peers]))
        return
    rows = [
        (
            p.peer_id,
            p.display_name,
            labels(pb.PeerType, p.types),
            ", ".join(p.languages),
            p.service_area,
            p.time_zone,
            f"{p.load}/{p.capacity}",
            label(pb.PeerStatus, p.status),
        )
        for p in peers
    ]
    columns = ("peer", "name", "types", "languages", "area", "time zone", "load", "status")
    s.out.table(listing.title("Peers"), columns, rows)
    if listing.hint():
        s.out.hint(listing.hint())


@app.command("show")
@handled
def show_peer(ctx: typer.Context, peer_id: Annotated[str, typer.Argument(help="Peer id.")]) -> None:
    """Everything the roster holds about one peer."""
    s = session(ctx)
    peer = s.clients.matcher.call("GetPeer", pb.GetPeerRequest(peer_id=peer_id)).peer
    if s.out.json:
        s.out.emit(to_dict(peer))
        return
    s.out.pairs(
        f"Peer {peer.peer_id}",
        [
            ("name", peer.display_name),
            ("types", labels(pb.PeerType, peer.types)),
            ("status", label(pb.PeerStatus, peer.status)),
            ("load / capacity", f"{peer.load}/{peer.capacity}"),
            ("languages", ", ".join(peer.languages)),
            ("cultures", ", ".join(peer.cultures)),
            ("gender", peer.gender),
            ("lived experience", ", ".join(peer.lived_experience)),
            ("pathways", ", ".join(peer.pathways)),
            ("modalities", labels(pb.Modality, peer.modalities)),
            ("age groups", labels(pb.AgeBand, peer.age_groups)),
            ("service area", peer.service_area),
            ("time zone", peer.time_zone),
            ("availability", "; ".join(window_text(w) for w in peer.availability)),
            ("certifications", ", ".join(peer.certifications)),
            ("supervisor", peer.supervisor_id),
        ],
    )
