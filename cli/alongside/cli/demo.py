"""``alongside demo`` (the whole journey against running services) and ``alongside demo-data``."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from alongside.cli import demo_followup as later
from alongside.cli import demo_groups
from alongside.cli.demo_data import generate, write_files
from alongside.cli.demo_journey import Journey
from alongside.cli.errors import CliError, ExitCode, handled
from alongside.cli.output import Output
from alongside.cli.state import Session, session

Seed = Annotated[int, typer.Option(help="Same seed, same data.")]
Peers = Annotated[int, typer.Option(help="Peers on the roster.")]
Intakes = Annotated[int, typer.Option(help="Intakes to submit.")]


@handled
def demo(
    ctx: typer.Context,
    seed: Seed = 7,
    peers: Peers = 200,
    intakes: Intakes = 60,
    accept: Annotated[int, typer.Option(help="Intakes staff accept by hand in step 3.")] = 5,
    wait: Annotated[float, typer.Option(help="Seconds to wait for the scheduler and notifier to react.")] = 20.0,
    time_limit: Annotated[float, typer.Option(help="Batch solver time limit in seconds.")] = 10.0,
) -> None:
    """Run the whole journey against running services (`make run`): roster, intakes, accept, session,
    notifications, close, batch; then a summary. Everything is synthetic and clearly fictional."""
    s = session(ctx)
    if not (1 <= peers <= 5000 and 1 <= intakes <= 1000):
        raise CliError("--peers must be 1..5000 and --intakes 1..1000", ExitCode.BAD_INPUT)
    steps = s if not s.out.json else Session(s.config, Output.muted(), s.clients)
    journey = Journey(steps, generate(seed, peers, intakes, date.today()), "demo-" + uuid.uuid4().hex[:12], wait)
    journey.load_roster()
    journey.submit_intakes()
    journey.accept(accept)
    later.session_booked(journey)
    later.notifications(journey)
    later.close(journey)
    later.batch(journey, time_limit)
    demo_groups.group_session(journey)
    summary(s.out, journey)


def summary(out: Output, j: Journey) -> None:
    f = j.facts
    if out.json:
        out.emit({"seed": j.data.seed, "run": j.key, **f})
        return
    out.text("")
    out.heading("Summary")
    out.pairs(
        f"Demo run {j.key} (seed {j.data.seed})",
        [
            ("peers imported", f.get("peers_imported", 0)),
            ("intakes submitted", f.get("intakes", 0)),
            ("  shortlisted at once", f.get("shortlisted", 0)),
            ("  put on the waiting list", f.get("waitlisted", 0)),
            ("  offered community groups", f.get("offered_groups", 0)),
            ("accepted by staff", f.get("accepted", 0)),
            ("first session booked by the scheduler", "yes" if f.get("first_session_booked") else "no"),
            ("items in that peer's inbox", f.get("inbox_items", 0)),
            ("matches closed", f.get("closed", 0)),
            ("batch: requests considered", f.get("batch_requests", 0)),
            ("batch: matched and confirmed", f.get("batch_matched", 0)),
            ("batch: still waiting", f.get("still_waiting", 0)),
            ("batch: objective / gap", f"{f.get('objective', 0)} / {float(str(f.get('gap', 0))):.2%}"),
            ("batch: solver", f"{f.get('solver', '')} in {f.get('solver_seconds', 0)} s"),
            ("group session: enrolled / waiting", f"{f.get('group_enrolled', 0)} / {f.get('group_waiting', 0)}"),
        ],
    )
    out.text(
        "What happened: the matcher ranked peers for every intake and explained each choice; the participant's"
        " choice was accepted, which reserved capacity; the scheduler booked a first session on its own and the"
        " notifier told the peer, without names or health details. Closing a match gave its capacity back, and"
        " one batch run placed most of the people still waiting. Nobody on the waiting list is there silently:"
        " each has the reason why."
    )


@handled
def demo_data(
    ctx: typer.Context,
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder to write roster.csv, groups.csv and intakes/ into.")
    ] = Path("demo"),
    seed: Seed = 7,
    peers: Peers = 200,
    intakes: Intakes = 60,
) -> None:
    """Write the synthetic roster and community-group CSVs and intake YAML files, to import and submit by hand."""
    s = session(ctx)
    try:
        written = write_files(generate(seed, peers, intakes, date.today()), out_dir)
    except OSError as exc:
        raise CliError(
            f"{out_dir}: cannot write there ({type(exc).__name__}) — choose another --out", ExitCode.BAD_INPUT
        ) from None
    if s.out.json:
        s.out.emit({"written": [str(p) for p in written]})
        return
    s.out.text(f"wrote {written[0]}, {written[1]} and {len(written) - 2} intakes in {out_dir / 'intakes'}")
    s.out.hint(
        f"Next: alongside roster import {written[0]}   and: alongside groups import {written[1]}"
        f"   then: alongside intake submit {written[-1]}"
    )
