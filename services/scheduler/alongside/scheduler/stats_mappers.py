"""The dashboard's stored records -> domain facts -> response, in one place.

Only a session's start, status and match id are read; the response carries
counts and percentiles, nothing that names a person.
"""

from __future__ import annotations

from alongside.api.scheduler.v1 import scheduler_pb2 as pb
from alongside.kit.stats import StatsRange
from alongside.kit.stats_proto import BUCKETS_OUT, count_out, ts_out, urgencies_out
from alongside.scheduler.domain.model import SessionStatus
from alongside.scheduler.domain.session_stats import IntakeTime, SessionFact, SessionStats

_STATUS = {
    pb.SESSION_STATUS_BOOKED: SessionStatus.BOOKED,
    pb.SESSION_STATUS_CANCELLED: SessionStatus.CANCELLED,
    pb.SESSION_STATUS_ATTENDED: SessionStatus.ATTENDED,
    pb.SESSION_STATUS_NO_SHOW: SessionStatus.NO_SHOW,
}


def session_facts(raws: list[bytes]) -> list[SessionFact]:
    out = []
    record = pb.Session()
    for raw in raws:
        record.ParseFromString(raw)
        status = _STATUS.get(record.status)
        if status is not None:
            start_ms = record.start.seconds * 1000 + record.start.nanos // 1_000_000
            out.append(SessionFact(start_ms, status, record.match_id))
    return out


def intake_times(raws: dict[str, bytes]) -> dict[str, IntakeTime]:
    out = {}
    for match_id, raw in raws.items():
        stamp, _, urgency = raw.decode().partition("|")
        if stamp.lstrip("-").isdigit() and urgency:
            out[match_id] = IntakeTime(int(stamp), urgency)
    return out


def stats_out(stats: SessionStats, rng: StatsRange, k: int) -> pb.GetSessionStatsResponse:
    out = pb.GetSessionStatsResponse(
        start=ts_out(rng.start_ms), end=ts_out(rng.end_ms), bucket=BUCKETS_OUT[rng.bucket], min_cell_size=k
    )
    for o in stats.outcomes:
        out.sessions.add(
            bucket_start=ts_out(o.bucket_start_ms),
            attended=count_out(o.attended),
            no_show=count_out(o.no_show),
            cancelled=count_out(o.cancelled),
            booked=count_out(o.booked),
        )
    out.time_to_first_session.extend(urgencies_out(stats.time_to_first_session))
    return out
