"""``alongside participant``: erase a participant, and follow the erasure."""

from __future__ import annotations

from typing import Annotated

import typer

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.cli.clients import idempotency_key
from alongside.cli.errors import handled
from alongside.cli.output import Output, label, to_dict, when
from alongside.cli.state import IdempotencyKey, session

app = typer.Typer(help="Participants: erase one's personal data across the services.", no_args_is_help=True)


@app.command("erase")
@handled
def erase(
    ctx: typer.Context,
    participant_ref: Annotated[str, typer.Argument(help="The participant's reference, as given at intake.")],
    key: IdempotencyKey = None,
) -> None:
    """Erase the participant's data in every service (where the programme permits it; managers only)."""
    s = session(ctx)
    request = pb.EraseParticipantRequest(
        idempotency_key=idempotency_key(key), participant_ref=participant_ref, reason=pb.ERASURE_REASON_ON_REQUEST
    )
    erasure = s.clients.matcher.call("EraseParticipant", request).erasure
    if s.out.json:
        s.out.emit(to_dict(erasure))
        return
    show_erasure(s.out, erasure)
    if not erasure.complete:
        s.out.hint(f"Follow the confirmations with: alongside participant erasure {erasure.erasure_id}")


@app.command("erasure")
@handled
def erasure(ctx: typer.Context, erasure_id: Annotated[str, typer.Argument(help="Erasure id (from `erase`).")]) -> None:
    """An erasure: which services have confirmed it, and when."""
    s = session(ctx)
    found = s.clients.matcher.call("GetErasure", pb.GetErasureRequest(erasure_id=erasure_id)).erasure
    if s.out.json:
        s.out.emit(to_dict(found))
        return
    show_erasure(s.out, found)


def show_erasure(out: Output, erasure: pb.Erasure) -> None:
    state = "complete" if erasure.complete else "waiting for confirmations"
    out.text(f"Erasure {erasure.erasure_id}: {state}", style="bold")
    out.text(
        f"{label(pb.ErasureReason, erasure.reason)}, by {erasure.requested_by} at {when(erasure.requested_at)}; "
        f"requests {', '.join(erasure.request_ids)}; matches {', '.join(erasure.match_ids) or 'none'}"
    )
    confirmed = {c.service: when(c.confirmed_at) for c in erasure.confirmations}
    rows = [(service, confirmed.get(service, "not yet")) for service in erasure.awaiting]
    out.table("Confirmations", ("service", "confirmed at"), rows)
