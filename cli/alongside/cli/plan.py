"""``alongside plan week``: place many first sessions at once (CP-SAT in the scheduler)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

import typer

from alongside.api.scheduler.v1 import scheduler_pb2 as pb
from alongside.cli.clients import idempotency_key
from alongside.cli.errors import handled
from alongside.cli.output import Output, to_dict, when
from alongside.cli.parsing import bad, instant, local_zone, timestamp, zone
from alongside.cli.state import IdempotencyKey, session

app = typer.Typer(help="The weekly planner for first sessions.", no_args_is_help=True)
DEADLINE_MARGIN_S = 30.0


def next_monday(now: datetime) -> datetime:
    """Midnight at the start of the next Monday, in ``now``'s zone (today if it is Monday midnight)."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    days = (7 - midnight.weekday()) % 7
    if days == 0 and midnight < now:
        days = 7
    return midnight + timedelta(days=days)


def show_plan(out: Output, reply: pb.PlanWeekResponse, committed: bool) -> None:
    out.pairs(
        "Week plan" + (" (booked)" if committed else " (proposal: add --commit to book it)"),
        [
            ("placed", len(reply.placements)),
            ("not placed", len(reply.unplaced)),
            ("objective", f"{reply.objective:.2f}"),
            ("gap", f"{reply.gap:.2%}"),
            ("solver", reply.solver_status),
            ("time", f"{reply.seconds:.2f} s"),
        ],
    )
    if reply.placements:
        rows = [(p.match_id, p.peer_id, when(p.start), when(p.end), p.session_id) for p in reply.placements]
        out.table("Placements", ("match", "peer", "start", "end", "session"), rows)
    if reply.unplaced:
        out.table("Not placed", ("match", "why"), [(u.match_id, u.reason) for u in reply.unplaced])


@app.command("week")
@handled
def week(
    ctx: typer.Context,
    week_start: Annotated[str | None, typer.Option(help="First day of the week; default next Monday.")] = None,
    tz: Annotated[str | None, typer.Option("--tz", help="Zone the week starts in; default this machine's.")] = None,
    time_limit: Annotated[
        float, typer.Option(help="Solver time limit in seconds; at most half the scheduler's deadline (15).")
    ] = 10.0,
    commit: Annotated[bool, typer.Option("--commit", help="Book the placements; otherwise only propose.")] = False,
    key: IdempotencyKey = None,
) -> None:
    """Plan the first sessions of accepted matches the scheduler could not book on its own; urgent first."""
    s = session(ctx)
    where = zone("--tz", tz) if tz else local_zone()
    start = instant("--week-start", week_start, where) if week_start else next_monday(datetime.now(where))
    if not time_limit > 0:  # the scheduler holds the upper bound (half its deadline)
        raise bad("--time-limit", "must be more than 0 seconds")
    request = pb.PlanWeekRequest(
        idempotency_key=idempotency_key(key), week_start=timestamp(start), time_limit_seconds=time_limit, commit=commit
    )
    reply = s.clients.scheduler.call("PlanWeek", request, max(s.config.timeout_s, time_limit + DEADLINE_MARGIN_S))
    if s.out.json:
        s.out.emit(to_dict(reply))
    else:
        show_plan(s.out, reply, commit)
