"""``alongside match``: accept or decline a candidate, close a match, show one."""

from __future__ import annotations

from typing import Annotated

import typer

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.cli.clients import idempotency_key
from alongside.cli.errors import handled
from alongside.cli.output import to_dict
from alongside.cli.parsing import choices, enum_value
from alongside.cli.state import IdempotencyKey, session
from alongside.cli.views import peer_names, show_matches, show_request

app = typer.Typer(help="Matches: accept or decline a candidate, close a match.", no_args_is_help=True)
RequestId = Annotated[str, typer.Argument(help="Match request id (from `intake submit`).")]
PeerId = Annotated[str, typer.Argument(help="The candidate's peer id.")]


@app.command("accept")
@handled
def accept(ctx: typer.Context, request_id: RequestId, peer_id: PeerId, key: IdempotencyKey = None) -> None:
    """Accept the participant's choice: reserves the peer's capacity; the scheduler then books a first session."""
    s = session(ctx)
    request = pb.AcceptMatchRequest(idempotency_key=idempotency_key(key), request_id=request_id, peer_id=peer_id)
    match = s.clients.matcher.call("AcceptMatch", request).match
    if s.out.json:
        s.out.emit(to_dict(match))
        return
    show_matches(s.out, "Match accepted", [match], peer_names(s.clients.matcher, [match.peer_id]))
    s.out.hint(f"The scheduler books the first session; see it with: alongside sessions list --peer {match.peer_id}")


@app.command("decline")
@handled
def decline(ctx: typer.Context, request_id: RequestId, peer_id: PeerId, key: IdempotencyKey = None) -> None:
    """Decline a candidate; prints a fresh shortlist that leaves the declined peers out."""
    s = session(ctx)
    request = pb.DeclineMatchRequest(idempotency_key=idempotency_key(key), request_id=request_id, peer_id=peer_id)
    reply = s.clients.matcher.call("DeclineMatch", request).request
    if s.out.json:
        s.out.emit(to_dict(reply))
        return
    show_request(s.out, reply, peer_names(s.clients.matcher, [c.peer_id for c in reply.candidates]))


@app.command("close")
@handled
def close(
    ctx: typer.Context,
    match_id: Annotated[str, typer.Argument(help="Match id.")],
    reason: Annotated[str, typer.Option(help=f"One of: {', '.join(choices(pb.CloseReason))}.")],
    key: IdempotencyKey = None,
) -> None:
    """Close a match: frees the peer's capacity and cancels its future sessions."""
    s = session(ctx)
    request = pb.CloseMatchRequest(
        idempotency_key=idempotency_key(key), match_id=match_id, reason=enum_value("--reason", pb.CloseReason, reason)
    )
    match = s.clients.matcher.call("CloseMatch", request).match
    if s.out.json:
        s.out.emit(to_dict(match))
        return
    show_matches(s.out, "Match closed", [match], peer_names(s.clients.matcher, [match.peer_id]))


@app.command("show")
@handled
def show(ctx: typer.Context, match_id: Annotated[str, typer.Argument(help="Match id.")]) -> None:
    """One match."""
    s = session(ctx)
    match = s.clients.matcher.call("GetMatch", pb.GetMatchRequest(match_id=match_id)).match
    if s.out.json:
        s.out.emit(to_dict(match))
        return
    show_matches(s.out, f"Match {match.match_id}", [match], peer_names(s.clients.matcher, [match.peer_id]))
