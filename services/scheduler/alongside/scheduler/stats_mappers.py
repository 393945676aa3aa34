"""The dashboard's stored facts -> domain columns -> response, in one place.

Only a session's start, status and match id are read; the response carries
counts and percentiles, nothing that names a person.
"""

from __future__ import annotations

import numpy as np

from alongside.api.scheduler.v1 import scheduler_pb2 as pb
from alongside.kit.stats import StatsRange
from alongside.kit.stats_proto import BUCKETS_OUT, count_out, ts_out, urgencies_out
from alongside.scheduler.domain.session_stats import IntakeTime, Sessions, SessionStats


def sessions_of(facts: list[bytes]) -> Sessions:
    """``start_ms|letter|match`` values as columns, parsed in bulk."""
    if not facts:
        return Sessions(np.zeros(0, np.int64), np.zeros(0, np.uint8), np.zeros(0, np.bytes_))
    parts = b"|".join(facts).split(b"|")
    letters = b"".join(parts[1::3])
    if len(parts) != 3 * len(facts) or len(letters) != len(facts):
        raise ValueError("a session fact is malformed")
    return Sessions(
        np.fromiter(map(int, parts[0::3]), dtype=np.int64, count=len(facts)),
        np.frombuffer(letters, dtype=np.uint8),
        np.array(parts[2::3], dtype=np.bytes_),
    )


def intake_times(raws: dict[bytes, bytes]) -> dict[bytes, IntakeTime]:
    """``requested_ms|URGENCY`` per match, parsed in bulk; a malformed record is skipped."""
    parts = b"|".join(raws.values()).split(b"|")
    if len(parts) == 2 * len(raws):
        try:
            stamps = list(map(int, parts[0::2]))
        except ValueError:
            pass
        else:
            urgencies = [u.decode() for u in parts[1::2]]
            return {m: IntakeTime(t, u) for m, t, u in zip(raws, stamps, urgencies, strict=True) if u}
    return {m: t for m, raw in raws.items() if (t := _intake_time(raw)) is not None}


def _intake_time(raw: bytes) -> IntakeTime | None:
    stamp, _, urgency = raw.decode(errors="replace").partition("|")
    return IntakeTime(int(stamp), urgency) if stamp.lstrip("-").isdigit() and urgency and "|" not in urgency else None


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
