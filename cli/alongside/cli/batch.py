"""``alongside batch``: propose matches for the waiting list at once, then confirm them."""

from __future__ import annotations

import threading
import time
from typing import Annotated

import typer

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.cli.clients import idempotency_key
from alongside.cli.errors import ExitCode, handled
from alongside.cli.output import Output, to_dict, when
from alongside.cli.parsing import bad, enum_value
from alongside.cli.state import IdempotencyKey, Session, session
from alongside.cli.views import peer_names, show_matches

app = typer.Typer(help="Batch matching over the waiting list: run, then confirm.", no_args_is_help=True)
# The call may take the whole solver time limit; leave room for loading and storing.
DEADLINE_MARGIN_S = 30.0


def run_batch(s: Session, request: pb.RunBatchMatchRequest) -> pb.BatchRun:
    """RunBatchMatch with a progress bar that fills towards the solver's time limit."""
    limit = request.time_limit_seconds or 10.0
    done = threading.Event()
    matcher = s.clients.matcher
    future = matcher.future("RunBatchMatch", request, max(s.config.timeout_s, limit + DEADLINE_MARGIN_S))
    future.add_done_callback(lambda _: done.set())
    started = time.monotonic()
    with s.out.progress(unit=" s") as progress:
        task = progress.add_task("solving, up to the time limit", total=round(limit))
        while not done.wait(0.1):
            progress.update(task, completed=min(round(time.monotonic() - started), round(limit)))
    with matcher.guard():
        run: pb.BatchRun = future.result().run
    return run


def show_run(out: Output, run: pb.BatchRun, names: dict[str, str]) -> None:
    out.pairs(
        f"Batch {run.batch_id}",
        [
            ("matched (proposed)", len(run.proposals)),
            ("still waiting", len(run.unmatched_request_ids)),
            ("objective", f"{run.objective:.2f}"),
            ("bound", f"{run.bound:.2f}"),
            ("gap", f"{run.gap:.2%}"),
            ("solver", f"{run.solver_status} ({run.engine or 'none'})"),
            ("time", f"{run.seconds:.2f} s"),
        ],
    )
    if run.proposals:
        rows = [(p.request_id, p.peer_id, names.get(p.peer_id, ""), f"{p.score:.1f}") for p in run.proposals]
        out.table("Proposals (nothing changes until you confirm)", ("request", "peer", "name", "fit"), rows)


@app.command("run")
@handled
def run(
    ctx: typer.Context,
    request: Annotated[list[str] | None, typer.Option(help="Only these request ids; default the waiting list.")] = None,
    time_limit: Annotated[float, typer.Option(help="Solver time limit in seconds.")] = 10.0,
    intake_cap: Annotated[int, typer.Option(help="Most new intakes per peer in this batch; 0 no cap.")] = 0,
    youth_cap: Annotated[int, typer.Option(help="Most youth participants per peer in this batch; 0 no cap.")] = 0,
    fairness: Annotated[str, typer.Option(help="none, or minmax to even out caseloads.")] = "none",
    key: IdempotencyKey = None,
) -> None:
    """Propose the best global assignment of waiting requests to peers with free capacity."""
    s = session(ctx)
    if not 0 < time_limit <= 300:
        raise bad("--time-limit", "must be more than 0 and at most 300 seconds")
    policy = pb.BatchPolicy(
        intake_cap_per_peer=intake_cap,
        youth_cap_per_peer=youth_cap,
        fairness=enum_value("--fairness", pb.Fairness, fairness),
    )
    request_msg = pb.RunBatchMatchRequest(
        idempotency_key=idempotency_key(key), request_ids=request or [], time_limit_seconds=time_limit, policy=policy
    )
    batch_run = run_batch(s, request_msg)
    if s.out.json:
        s.out.emit(to_dict(batch_run))
        return
    show_run(s.out, batch_run, peer_names(s.clients.matcher, [p.peer_id for p in batch_run.proposals]))
    if batch_run.proposals:
        s.out.hint(f"Next: alongside batch confirm {batch_run.batch_id}   (or --request ID for some of them)")


@app.command("confirm")
@handled
def confirm(
    ctx: typer.Context,
    batch_id: Annotated[str, typer.Argument(help="Batch id from `batch run`.")],
    request: Annotated[list[str] | None, typer.Option(help="Confirm only these request ids; repeat.")] = None,
    key: IdempotencyKey = None,
) -> None:
    """Accept the batch's proposals. A proposal whose peer filled up meanwhile is reported, not forced.

    Confirming again is harmless: proposals confirmed before are shown as such (exit 0).
    Exits 1 when any proposal could not be confirmed."""
    s = session(ctx)
    message = pb.ConfirmBatchRequest(idempotency_key=idempotency_key(key), batch_id=batch_id, request_ids=request or [])
    reply = s.clients.matcher.call("ConfirmBatch", message)
    if s.out.json:
        s.out.emit(to_dict(reply))
    else:
        show_confirmation(s, batch_id, reply)
    if reply.failures:
        raise typer.Exit(int(ExitCode.REFUSED))


def show_confirmation(s: Session, batch_id: str, reply: pb.ConfirmBatchResponse) -> None:
    names = peer_names(s.clients.matcher, [m.peer_id for m in (*reply.matches, *reply.already_confirmed)])
    if reply.matches or not reply.already_confirmed:
        show_matches(s.out, f"Confirmed ({len(reply.matches)})", reply.matches, names)
    if reply.already_confirmed:
        since = min(when(m.accepted_at) for m in reply.already_confirmed)
        title = f"Already confirmed on {since} ({len(reply.already_confirmed)})"
        if not reply.matches and not reply.failures:
            title = f"Batch {batch_id} was already confirmed on {since}: nothing to do ({len(reply.already_confirmed)})"
        show_matches(s.out, title, reply.already_confirmed, names)
    if reply.failures:
        s.out.table("Not confirmed", ("request", "why"), [(f.request_id, f.reason) for f in reply.failures])
        s.out.hint("Those requests stay open: run `alongside batch run` again or accept another candidate.")
