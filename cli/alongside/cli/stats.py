"""``alongside stats``: the programme dashboard's figures, for operators.

Calls GetProgrammeStats (matcher) and GetSessionStats (scheduler) as a
manager or admin. Counts under the services' minimum cell size print as
"<k"; nothing here names a person (docs/dashboard.md).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer

from alongside.api.common.v1 import stats_pb2 as st
from alongside.api.matcher.v1 import matcher_pb2 as mpb
from alongside.api.scheduler.v1 import scheduler_pb2 as spb
from alongside.cli.errors import handled
from alongside.cli.output import Output, to_dict
from alongside.cli.parsing import bad, timestamp
from alongside.cli.state import session


@handled
def stats(
    ctx: typer.Context,
    weeks: Annotated[int, typer.Option(help="Weeks of history, up to now.")] = 12,
    ahead: Annotated[int, typer.Option(help="Weeks of booked sessions after now.")] = 2,
) -> None:
    """The dashboard's aggregates: waiting list, time to match and to first session, caseloads,
    sessions per week and equity by language and culture. Needs a manager or admin token."""
    s = session(ctx)
    if not 1 <= weeks <= 104 or not 0 <= ahead <= 52:
        raise bad("--weeks", "must be 1..104 (and --ahead 0..52)")
    now = datetime.now(UTC)
    start, end = timestamp(now - timedelta(weeks=weeks)), timestamp(now + timedelta(weeks=ahead))
    programme = s.clients.matcher.call("GetProgrammeStats", mpb.GetProgrammeStatsRequest(start=start))
    sessions = s.clients.scheduler.call("GetSessionStats", spb.GetSessionStatsRequest(start=start, end=end))
    if s.out.json:
        s.out.emit({"programme": to_dict(programme), "sessions": to_dict(sessions)})
        return
    show(s.out, programme, sessions)


def show(out: Output, p: mpb.GetProgrammeStatsResponse, s: spb.GetSessionStatsResponse) -> None:
    k = p.min_cell_size

    def n(count: st.StatsCount) -> str:
        return f"<{k}" if count.suppressed else str(count.value)

    def days(summary: st.DurationSummary) -> tuple[str, str, str]:
        if summary.count.suppressed or not summary.count.value:
            return n(summary.count), "", ""
        return n(summary.count), f"{summary.p50_seconds / 86400:.1f}", f"{summary.p90_seconds / 86400:.1f}"

    week = "week of" if p.bucket == st.STATS_BUCKET_WEEK else "day"
    rows: list[Any] = [(_day(w.bucket_start), n(w.submitted), n(w.matched), *days(w.age)) for w in p.waiting]
    out.table("Waiting list (age in days)", (week, "intakes", "matched", "waiting at end", "p50", "p90"), rows)
    out.table("On the waiting list now", ("waiting", "p50 days", "p90 days"), [days(p.waitlisted_now)])
    for title, series in (("Intake to match", p.time_to_match), ("Intake to first session", s.time_to_first_session)):
        out.table(
            f"{title} (days)", ("urgency", "count", "p50", "p90"), [(u.urgency, *days(u.duration)) for u in series]
        )
    c = p.caseload
    use = f"{c.load_units / c.capacity_units:.0%}" if c.capacity_units else "-"
    out.pairs("Caseload", [("active peers", c.active_peers), ("capacity (units)", c.capacity_units), ("use", use)])
    bins = [(f"{b.lower_percent}%" + (f"-{b.upper_percent}%" if b.upper_percent else "+"), n(b.peers)) for b in c.bins]
    out.table("Peers by caseload use", ("use", "peers"), bins)
    rows = [(_day(o.bucket_start), n(o.attended), n(o.no_show), n(o.cancelled), n(o.booked)) for o in s.sessions]
    out.table("Sessions", (week, "attended", "no-show", "cancelled", "booked"), rows)
    rows = [
        (
            g.dimension,
            g.value,
            g.requests,
            n(g.matched),
            n(g.preference_met),
            f"{n(g.required_met)}/{n(g.required)}",
            *days(g.wait)[1:],
        )
        for g in p.equity
    ]
    columns = ("group", "value", "intakes", "matched", "preference met", "required met", "wait p50", "wait p90")
    out.table("Equity (wait in days)", columns, rows)
    out.hint(f"Groups and counts under {k} people are merged into 'other' or shown as <{k}.")


def _day(stamp: Any) -> str:
    return str(stamp.ToDatetime(tzinfo=UTC).date())
