"""``alongside groups import|list|show``: the community-group directory in the matcher.

These commands join the ``groups`` command group (peer-led group sessions
add theirs there) through ``register``, so the group itself is declared once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.cli.clients import idempotency_key
from alongside.cli.errors import ExitCode, handled
from alongside.cli.output import label, labels, to_dict
from alongside.cli.parsing import enum_value, window_text
from alongside.cli.roster_file import read_roster
from alongside.cli.state import IdempotencyKey, PageToken, session


def register(app: typer.Typer) -> None:
    """Add the directory's commands to the ``groups`` command group."""
    for name, command in (("import", import_groups), ("list", list_groups), ("show", show_group)):
        app.command(name)(command)


@handled
def import_groups(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Groups CSV (columns: docs/matcher.md, 'Community groups').")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check every row; import nothing.")] = False,
    key: IdempotencyKey = None,
) -> None:
    """Import community groups from a CSV; rows that fail are listed by line.

    Good rows are imported (a known group id is updated). Exits 2 when any row was rejected."""
    s = session(ctx)
    data = read_roster(file).encode()  # the same checks: exists, readable, UTF-8
    request = pb.ImportGroupsRequest(idempotency_key=idempotency_key(key), csv=data, dry_run=dry_run)
    reply = s.clients.matcher.call("ImportGroups", request)
    if s.out.json:
        errors = [{"line": e.line, "field": e.field, "reason": e.reason} for e in reply.errors]
        s.out.emit({"file": str(file), "imported": reply.imported, "dry_run": dry_run, "errors": errors})
    else:
        verb = "would import" if dry_run else "imported"
        s.out.text(
            f"{file.name}: {verb} {reply.imported} groups" + (" (dry run: nothing changed)" if dry_run else ""),
            style="bold",
        )
        if reply.errors:
            s.out.table(
                "Rows not imported", ("line", "field", "problem"), [(e.line, e.field, e.reason) for e in reply.errors]
            )
            s.out.hint("Fix those lines and import the file again; groups already imported are updated, not doubled.")
    if reply.errors:
        raise typer.Exit(int(ExitCode.BAD_INPUT))


@handled
def list_groups(
    ctx: typer.Context,
    pathway: Annotated[str | None, typer.Option(help="e.g. twelve_step, smart_recovery, recovery_dharma.")] = None,
    language: Annotated[str | None, typer.Option(help="Language code, e.g. en, es.")] = None,
    area: Annotated[str | None, typer.Option(help="County or area.")] = None,
    modality: Annotated[str | None, typer.Option(help="in_person, video or phone: groups that meet this way.")] = None,
    audience: Annotated[
        str | None,
        typer.Option(help="e.g. adults, young_people, families, veterans (adults also finds groups naming none)."),
    ] = None,
    retired: Annotated[bool, typer.Option("--retired", help="Include retired groups.")] = False,
    limit: Annotated[int, typer.Option(help="At most this many groups; 0 for all.")] = 50,
    page_token: PageToken = "",
) -> None:
    """List the directory's groups in id order."""
    s = session(ctx)
    request = pb.ListGroupsRequest(
        language=language or "", area=area or "", include_retired=retired, page_token=page_token
    )
    if pathway:
        request.pathway = enum_value("--pathway", pb.GroupPathway, pathway)
    if modality:
        request.modality = enum_value("--modality", pb.Modality, modality, exclude=("text",))
    if audience:
        request.audience = enum_value("--audience", pb.GroupAudience, audience)
    listing = s.clients.matcher.page("ListGroups", request, "groups", max(limit, 0))
    if s.out.json:
        s.out.emit(listing.json("groups", [to_dict(g) for g in listing.items]))
        return
    rows = [
        (
            g.group_id,
            g.name,
            label(pb.GroupPathway, g.pathway),
            ", ".join(g.languages),
            labels(pb.Modality, g.modalities),
            g.area,
            "; ".join(window_text(w) for w in g.meetings) + f" ({g.time_zone})",
            "retired" if g.retired else "",
        )
        for g in listing.items
    ]
    s.out.table(
        listing.title("Community groups"),
        ("group", "name", "pathway", "languages", "meets", "area", "meetings", ""),
        rows,
    )
    if listing.hint():
        s.out.hint(listing.hint())


@handled
def show_group(ctx: typer.Context, group_id: Annotated[str, typer.Argument(help="Group id.")]) -> None:
    """Everything the directory holds about one group."""
    s = session(ctx)
    group = s.clients.matcher.call("GetGroup", pb.GetGroupRequest(group_id=group_id)).group
    if s.out.json:
        s.out.emit(to_dict(group))
        return
    s.out.pairs(
        f"Group {group.group_id}",
        [
            ("name", group.name),
            ("pathway", label(pb.GroupPathway, group.pathway)),
            ("languages", ", ".join(group.languages)),
            ("meets", labels(pb.Modality, group.modalities)),
            ("area", group.area),
            ("time zone", group.time_zone),
            ("meetings", "; ".join(window_text(w) for w in group.meetings)),
            ("for", labels(pb.GroupAudience, group.audiences) or "adults"),
            ("accessibility", group.accessibility),
            ("status", "retired (not offered)" if group.retired else "offered"),
        ],
    )
