"""The programme dashboard's charts, from the two stats replies (docs/dashboard.md).

Pure: protobuf replies in, a list of ``Chart`` out. Each chart is drawn by
``static/dashboard.js`` from its JSON (``Chart.data()``) and shown again as a
data table and a text summary by ``templates/dashboard.html``, so the page,
the picture and the table say the same thing.

A suppressed cell (``StatsCount.suppressed``: fewer than k people) is a value
of ``None`` with ``suppressed`` set: drawn as a labelled gap, written as
"fewer than k", never as 0. A value that does not exist (nobody waiting, so
no median) is ``None`` without the flag: written as a dash, drawn as nothing.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from babel.dates import format_date
from babel.numbers import format_decimal

from alongside.api.common.v1 import stats_pb2 as st
from alongside.api.matcher.v1 import matcher_pb2 as mpb
from alongside.api.scheduler.v1 import scheduler_pb2 as spb
from alongside.console.i18n import current, pgettext

DAY_SECONDS = 86400.0
RANGES = (12, 26, 52)  # weeks the manager may choose
BUCKETS = {"week": st.STATS_BUCKET_WEEK, "day": st.STATS_BUCKET_DAY}
URGENCIES = ("ROUTINE", "PRIORITY", "URGENT")
NO_VALUE = "\u2013"  # an en dash: there is no such value (nobody to take a median of)

# Every message of this module (tests/unit/console/test_dashboard.py checks the Spanish catalogue has them),
# looked up in the context CONTEXT first: "Waiting" and "Matched" count people here, and name a status elsewhere.
CONTEXT = "dashboard"
WORDS = {
    "waiting": "Waiting",
    "submitted": "New intakes",
    "matched": "Matched",
    "p50": "Median (days)",
    "p90": "90th percentile (days)",
    "count": "People",
    "sessions_count": "First sessions",
    "matches_count": "Matches",
    "peers": "Peers",
    "attended": "Attended",
    "no_show": "No-show",
    "cancelled": "Cancelled",
    "booked": "Booked",
    "absent": "Absent",
    "share": "Required preferences met (%)",
    "requests": "Stated it",
    "required": "Required it",
    "required_met": "Required and met",
    "ROUTINE": "Routine",
    "PRIORITY": "Priority",
    "URGENT": "Urgent",
    "language": "Language",
    "culture": "Culture",
    "other": "other",
    "week": "Week starting",
    "day": "Day",
    "urgency": "Urgency",
    "load": "Load over capacity",
    "group": "Group",
    "fewer": "fewer than %(k)s",
    "and_over": "%(lower)s %% and over",
    "bin": "%(lower)s to %(upper)s %%",
    "latest": "%(series)s: latest %(latest)s, highest %(high)s, lowest %(low)s.",
    "category": "%(category)s: %(values)s.",
    "none": "No data in this range.",
    "gaps": "Gaps mark cells of fewer than %(k)s people, which are not shown.",
    "caseload": "%(peers)s active peers carry %(load)s of %(capacity)s capacity units (%(share)s %%).",
    "waitlisted_now": "On the waiting list now (no peer fits yet): %(count)s; median wait %(p50)s days, "
                      "90th percentile %(p90)s days.",
}


def _(key: str, **values: Any) -> str:
    text = pgettext(CONTEXT, WORDS[key])
    return text % values if values else text


# Babel's formatting is most of the page's own time (a year by day is thousands of cells);
# the same few values recur, so each is formatted once per language.
@functools.lru_cache(maxsize=4096)
def _number(value: float, pattern: str, locale: str) -> str:
    return format_decimal(value, format=pattern, locale=locale)  # type: ignore[no-any-return]


@functools.lru_cache(maxsize=2048)
def _day(day: date, locale: str) -> str:
    return format_date(day, format="d MMM yyyy", locale=locale)  # type: ignore[no-any-return]


def fewer(k: int) -> str:
    """How a suppressed cell reads: "fewer than 5"."""
    return _("fewer", k=k)


@dataclass(frozen=True)
class Choice:
    """The manager's choice of range and bucket, from the query string; anything else is the default."""

    weeks: int = 12
    bucket: str = "week"

    @classmethod
    def from_query(cls, query: Any) -> Choice:
        try:
            weeks = int(query.get("weeks", "12"))
        except ValueError:
            weeks = 12
        bucket = query.get("bucket", "week")
        return cls(weeks if weeks in RANGES else 12, bucket if bucket in BUCKETS else "week")

    def range(self, now: datetime) -> tuple[datetime, datetime]:
        return now - timedelta(weeks=self.weeks), now

    @property
    def bucket_value(self) -> int:
        return BUCKETS[self.bucket]


@dataclass
class Series:
    label: str
    values: list[float | None]
    suppressed: list[bool]
    unit: str = "count"  # "count", "days" or "percent": how a value is written
    drawn: bool = True  # False: in the table only

    def text(self, i: int, k: int) -> str:
        if self.suppressed[i]:
            return _("fewer", k=k)
        value = self.values[i]
        if value is None:
            return NO_VALUE
        return _number(value, "#,##0" if self.unit == "count" else "#,##0.#", current())


@dataclass
class Chart:
    key: str  # the element id's tail, and the chart's name in the JSON
    kind: str  # "time" (x: bucket starts) or "category"
    x_header: str
    x_labels: list[str]
    x_values: list[float]  # seconds since the epoch for "time", 0..n-1 for "category"
    series: list[Series]
    k: int
    notes: list[str] = field(default_factory=list)

    @property
    def drawn(self) -> list[Series]:
        return [s for s in self.series if s.drawn]

    @property
    def has_gaps(self) -> bool:
        return any(any(s.suppressed) for s in self.drawn)

    @property
    def summary(self) -> list[str]:
        """Sentences that say what the chart shows: the text alternative beside the table."""
        if not self.x_labels:
            return [_("none")]
        out = list(self.notes)
        if self.kind == "time":
            for s in self.drawn:
                shown = [(v, i) for i, v in enumerate(s.values) if v is not None]
                if not shown:
                    continue
                high = max(shown, key=lambda p: p[0])[1]
                low = min(shown, key=lambda p: p[0])[1]
                out.append(_("latest", series=s.label, latest=s.text(len(s.values) - 1, self.k),
                             high=s.text(high, self.k), low=s.text(low, self.k)))
        else:
            for i, label in enumerate(self.x_labels):
                values = ", ".join(f"{s.label} {s.text(i, self.k)}" for s in self.series)
                out.append(_("category", category=label, values=values))
        if self.has_gaps:
            out.append(_("gaps", k=self.k))
        return out

    @property
    def rows(self) -> list[list[str]]:
        return [[label, *(s.text(i, self.k) for s in self.series)] for i, label in enumerate(self.x_labels)]

    def data(self) -> dict[str, Any]:
        """What static/dashboard.js draws."""
        return {
            "kind": self.kind,
            "x": self.x_values,
            "labels": self.x_labels,
            "series": [{"label": s.label, "values": s.values, "suppressed": s.suppressed, "unit": s.unit}
                       for s in self.drawn],
        }


def build(programme: mpb.GetProgrammeStatsResponse, sessions: spb.GetSessionStatsResponse) -> list[Chart]:
    k = programme.min_cell_size or sessions.min_cell_size
    week = programme.bucket != st.STATS_BUCKET_DAY
    return [
        _waiting_size(programme, k, week),
        _waiting_age(programme, k, week),
        _by_urgency("first-session", sessions.time_to_first_session, k, "sessions_count"),
        _by_urgency("time-to-match", programme.time_to_match, k, "matches_count"),
        _caseload(programme, k),
        _sessions(sessions, sessions.min_cell_size or k, week),
        _group_attendance(sessions, sessions.min_cell_size or k, week),
        _equity_met(programme, k),
        _equity_wait(programme, k),
    ]


def _count(c: st.StatsCount) -> tuple[float | None, bool]:
    return (None, True) if c.suppressed else (float(c.value), False)


def _counts(label: str, cells: list[st.StatsCount]) -> Series:
    pairs = [_count(c) for c in cells]
    return Series(label, [v for v, _ in pairs], [s for _, s in pairs])


def _percentiles(summaries: list[st.DurationSummary]) -> tuple[Series, Series]:
    """Median and 90th percentile in days; suppressed with the count, absent over nobody."""
    p50: list[float | None] = []
    p90: list[float | None] = []
    hidden: list[bool] = []
    for d in summaries:
        absent = d.count.suppressed or d.count.value == 0
        p50.append(None if absent else round(d.p50_seconds / DAY_SECONDS, 1))
        p90.append(None if absent else round(d.p90_seconds / DAY_SECONDS, 1))
        hidden.append(d.count.suppressed)
    return Series(_("p50"), p50, hidden, "days"), Series(_("p90"), p90, list(hidden), "days")


def _bucket_axis(stamps: list[Any], week: bool) -> tuple[str, list[str], list[float]]:
    moments = [s.ToDatetime(tzinfo=UTC) for s in stamps]
    labels = [_day(m.date(), current()) for m in moments]
    return _("week" if week else "day"), labels, [m.timestamp() for m in moments]


def _waiting_size(p: mpb.GetProgrammeStatsResponse, k: int, week: bool) -> Chart:
    header, labels, xs = _bucket_axis([w.bucket_start for w in p.waiting], week)
    series = [
        _counts(_("waiting"), [w.waiting for w in p.waiting]),
        _counts(_("submitted"), [w.submitted for w in p.waiting]),
        _counts(_("matched"), [w.matched for w in p.waiting]),
    ]
    now = p.waitlisted_now
    p50, p90 = _percentiles([now])
    count = _counts("", [now.count])
    note = _("waitlisted_now", count=count.text(0, k), p50=p50.text(0, k), p90=p90.text(0, k))
    return Chart("waiting-size", "time", header, labels, xs, series, k, [note])


def _waiting_age(p: mpb.GetProgrammeStatsResponse, k: int, week: bool) -> Chart:
    header, labels, xs = _bucket_axis([w.bucket_start for w in p.waiting], week)
    p50, p90 = _percentiles([w.age for w in p.waiting])
    return Chart("waiting-age", "time", header, labels, xs, [p50, p90], k)


def _by_urgency(key: str, rows: Any, k: int, count_word: str) -> Chart:
    by_name = {r.urgency: r.duration for r in rows}
    names = [u for u in URGENCIES if u in by_name] + sorted(set(by_name) - set(URGENCIES))
    summaries = [by_name[u] for u in names]
    p50, p90 = _percentiles(summaries)
    count = _counts(_(count_word), [d.count for d in summaries])
    count.drawn = False
    labels = [_(u) if u in URGENCIES else u for u in names]
    return Chart(key, "category", _("urgency"), labels, [float(i) for i in range(len(names))], [p50, p90, count], k)


def _caseload(p: mpb.GetProgrammeStatsResponse, k: int) -> Chart:
    bins = list(p.caseload.bins)
    labels = [_("and_over", lower=b.lower_percent) if b.upper_percent == 0
              else _("bin", lower=b.lower_percent, upper=b.upper_percent) for b in bins]
    c = p.caseload
    share = 100 * c.load_units / c.capacity_units if c.capacity_units else 0.0
    note = _("caseload", peers=c.active_peers, load=c.load_units, capacity=c.capacity_units,
             share=_number(share, "#,##0", current()))
    series = [_counts(_("peers"), [b.peers for b in bins])]
    return Chart("caseload", "category", _("load"), labels, [float(i) for i in range(len(bins))], series, k, [note])


def _sessions(s: spb.GetSessionStatsResponse, k: int, week: bool) -> Chart:
    header, labels, xs = _bucket_axis([b.bucket_start for b in s.sessions], week)
    series = [
        _counts(_("attended"), [b.attended for b in s.sessions]),
        _counts(_("no_show"), [b.no_show for b in s.sessions]),
        _counts(_("cancelled"), [b.cancelled for b in s.sessions]),
        _counts(_("booked"), [b.booked for b in s.sessions]),
    ]
    return Chart("sessions", "time", header, labels, xs, series, k)


def _group_attendance(s: spb.GetSessionStatsResponse, k: int, week: bool) -> Chart:
    """Group session attendance records (one per participant per meeting) per bucket."""
    header, labels, xs = _bucket_axis([b.bucket_start for b in s.group_attendance], week)
    series = [
        _counts(_("attended"), [b.attended for b in s.group_attendance]),
        _counts(_("absent"), [b.absent for b in s.group_attendance]),
    ]
    return Chart("group-attendance", "time", header, labels, xs, series, k)


def _group_label(g: mpb.EquityGroup) -> str:
    value = _("other") if g.value == "other" else g.value
    return f"{_(g.dimension) if g.dimension in ('language', 'culture') else g.dimension}: {value}"


def _equity_met(p: mpb.GetProgrammeStatsResponse, k: int) -> Chart:
    groups = list(p.equity)
    share: list[float | None] = []
    hidden: list[bool] = []
    for g in groups:
        if g.required.suppressed or g.required_met.suppressed:
            share.append(None)
            hidden.append(True)
        elif g.required.value == 0:
            share.append(None)
            hidden.append(False)
        else:
            share.append(round(100 * g.required_met.value / g.required.value, 1))
            hidden.append(False)
    requests = Series(_("requests"), [float(g.requests) for g in groups], [False] * len(groups), drawn=False)
    required = _counts(_("required"), [g.required for g in groups])
    met = _counts(_("required_met"), [g.required_met for g in groups])
    required.drawn = met.drawn = False
    series = [Series(_("share"), share, hidden, "percent"), requests, required, met]
    xs = [float(i) for i in range(len(groups))]
    return Chart("equity-met", "category", _("group"), [_group_label(g) for g in groups], xs, series, k)


def _equity_wait(p: mpb.GetProgrammeStatsResponse, k: int) -> Chart:
    groups = list(p.equity)
    p50, p90 = _percentiles([g.wait for g in groups])
    count = _counts(_("count"), [g.wait.count for g in groups])
    count.drawn = False
    xs = [float(i) for i in range(len(groups))]
    return Chart("equity-wait", "category", _("group"), [_group_label(g) for g in groups], xs, [p50, p90, count], k)

