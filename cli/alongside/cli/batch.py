"""``alongside batch``: propose matches for the waiting list at once, then confirm them.

A run is started (StartBatchMatch answers at once) and watched
(WatchBatchMatch) with a progress bar towards the solver's time limit, so it
may run for minutes without any call's deadline cutting it off. Ctrl-C
cancels it (CancelBatchMatch): the solver stops within a second.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated

import typer

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.cli.clients import Service, idempotency_key
from alongside.cli.errors import CliError, ExitCode, handled
from alongside.cli.output import Output, to_dict, when
from alongside.cli.parsing import bad, enum_value
from alongside.cli.state import IdempotencyKey, Session, session
from alongside.cli.views import peer_names, show_matches

app = typer.Typer(help="Batch matching over the waiting list: run, then confirm.", no_args_is_help=True)
DEFAULT_LIMIT_S = 10.0
ENDED = (pb.BATCH_PHASE_DONE, pb.BATCH_PHASE_FAILED, pb.BATCH_PHASE_CANCELLED)
# A watch ends without the batch's end when its replica stops; another replica picks it up.
WATCH_TRIES = 5
WATCH_RETRY_S = 1.0
PHASES = {
    pb.BATCH_PHASE_QUEUED: "queued",
    pb.BATCH_PHASE_LOADING: "loading",
    pb.BATCH_PHASE_FLOW: "network flow",
    pb.BATCH_PHASE_LAGRANGIAN: "Lagrangian bound",
    pb.BATCH_PHASE_CP_SAT: "CP-SAT",
    pb.BATCH_PHASE_FAIRNESS: "fairness pass",
    pb.BATCH_PHASE_DONE: "done",
    pb.BATCH_PHASE_FAILED: "failed",
    pb.BATCH_PHASE_CANCELLED: "cancelled",
}


def describe(event: pb.BatchProgress) -> str:
    """One line for the progress bar: the phase and, once known, the solutions and the gap."""
    text = PHASES.get(event.phase, "solving")
    if event.requests:
        text += f", {event.requests} requests"
    if event.solutions:
        text += f", {event.solutions} solutions"
    if event.bound:
        text += f", gap {event.gap:.2%}"
    return text


def watch_batch(matcher: Service, batch_id: str, shown: Callable[[pb.BatchProgress], None]) -> pb.BatchProgress:
    """Follow the batch's progress (handing each event to ``shown``) until it ends."""
    for _ in range(WATCH_TRIES):
        for reply in matcher.stream("WatchBatchMatch", pb.WatchBatchMatchRequest(batch_id=batch_id)):
            shown(reply.progress)
            if reply.progress.phase in ENDED:
                return reply.progress  # type: ignore[no-any-return]
        time.sleep(WATCH_RETRY_S)
    raise CliError(
        f"lost sight of batch {batch_id} (its matcher stopped?); `alongside batch watch {batch_id}` shows it",
        ExitCode.UNREACHABLE,
        "UNAVAILABLE",
    )


def follow(s: Session, batch_id: str, limit: float) -> pb.BatchProgress:
    """Watch the batch with a progress bar that fills towards the solver's time limit."""
    with s.out.progress(unit=" s") as progress:
        task = progress.add_task("queued", total=round(limit))

        def shown(event: pb.BatchProgress) -> None:
            done = min(round(event.elapsed_seconds), round(limit))
            progress.update(task, completed=done, description=describe(event))

        return watch_batch(s.clients.matcher, batch_id, shown)


def cancel_batch(s: Session, batch_id: str, key: str) -> pb.BatchProgress:
    """Cancel the batch and wait for its end (CANCELLED, or DONE if it finished first)."""
    s.out.hint(f"Cancelling batch {batch_id} ...")
    request = pb.CancelBatchMatchRequest(idempotency_key=key, batch_id=batch_id)
    reply = s.clients.matcher.call("CancelBatchMatch", request)
    if reply.progress.phase in ENDED:
        return reply.progress  # type: ignore[no-any-return]
    return watch_batch(s.clients.matcher, batch_id, lambda _: None)


def result_of(batch_id: str, end: pb.BatchProgress) -> pb.BatchRun:
    if end.phase == pb.BATCH_PHASE_DONE:
        return end.run
    if end.phase == pb.BATCH_PHASE_CANCELLED:
        raise CliError(f"batch {batch_id} was cancelled: nothing was proposed", ExitCode.REFUSED, "CANCELLED")
    raise CliError(f"batch {batch_id} failed: {end.failure}", ExitCode.REFUSED, "FAILED")


def run_batch(s: Session, request: pb.RunBatchMatchRequest) -> pb.BatchRun:
    """Start the batch, show its progress and return its result; Ctrl-C cancels it."""
    start = pb.StartBatchMatchRequest(
        idempotency_key=request.idempotency_key,
        request_ids=request.request_ids,
        time_limit_seconds=request.time_limit_seconds,
        policy=request.policy,
    )
    batch_id: str = s.clients.matcher.call("StartBatchMatch", start).batch_id
    try:
        end = follow(s, batch_id, request.time_limit_seconds or DEFAULT_LIMIT_S)
    except KeyboardInterrupt:
        end = cancel_batch(s, batch_id, f"{request.idempotency_key}:cancel"[:128])
    return result_of(batch_id, end)


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
    time_limit: Annotated[float, typer.Option(help="Solver time limit in seconds, up to 300; Ctrl-C cancels.")] = 10.0,
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


@app.command("watch")
@handled
def watch(
    ctx: typer.Context,
    batch_id: Annotated[str, typer.Argument(help="Batch id from `batch run` or the console.")],
    time_limit: Annotated[float, typer.Option(help="The batch's time limit, for the progress bar.")] = 10.0,
) -> None:
    """Follow a started batch to its end and show its proposals (at once if it has ended)."""
    s = session(ctx)
    batch_run = result_of(batch_id, follow(s, batch_id, time_limit))
    if s.out.json:
        s.out.emit(to_dict(batch_run))
        return
    show_run(s.out, batch_run, peer_names(s.clients.matcher, [p.peer_id for p in batch_run.proposals]))


@app.command("cancel")
@handled
def cancel(
    ctx: typer.Context,
    batch_id: Annotated[str, typer.Argument(help="Batch id from `batch run` or the console.")],
    key: IdempotencyKey = None,
) -> None:
    """Stop a running batch (its solver stops within a second); a batch that has ended keeps its result."""
    s = session(ctx)
    request = pb.CancelBatchMatchRequest(idempotency_key=idempotency_key(key), batch_id=batch_id)
    progress = s.clients.matcher.call("CancelBatchMatch", request).progress
    if s.out.json:
        s.out.emit(to_dict(progress))
    elif progress.phase in ENDED:
        s.out.hint(f"Batch {batch_id} had already ended ({PHASES[progress.phase]}): nothing changed.")
    else:
        s.out.hint(f"Batch {batch_id} is stopping; `alongside batch watch {batch_id}` shows it end.")


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
