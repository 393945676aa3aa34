"""GetSessionStats: session outcomes, time to first session and group attendance, in aggregate."""

from __future__ import annotations

import asyncio

from alongside.api.scheduler.v1 import scheduler_pb2 as pb
from alongside.kit.stats_proto import count_out, range_in, ts_out
from alongside.scheduler.adapters.stats_reader import StatsReader
from alongside.scheduler.domain.group_stats import attendance_of, group_attendance
from alongside.scheduler.domain.session_stats import session_stats
from alongside.scheduler.service.context import Context
from alongside.scheduler.stats_mappers import intake_times, sessions_of, stats_out


class SessionStatsQuery:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.reader = StatsReader(ctx.store)

    async def get(self, req: pb.GetSessionStatsRequest) -> pb.GetSessionStatsResponse:
        rng = range_in(req, int(self.ctx.clock().timestamp() * 1000))
        k = self.ctx.settings.stats_min_cell_size
        peers = await self.reader.peers()
        # The group attendance facts are read alongside, not after: no extra wait.
        (facts, intakes), marks = await asyncio.gather(
            self.reader.facts_and_intakes(peers), self.reader.group_attendance(peers)
        )
        stats = session_stats(sessions_of(facts), intake_times(intakes), rng, k)
        out = stats_out(stats, rng, k)
        attendance = group_attendance(attendance_of(marks), rng, k)
        for week in attendance:
            out.group_attendance.add(
                bucket_start=ts_out(week.bucket_start_ms),
                attended=count_out(week.attended),
                absent=count_out(week.absent),
            )
        return out
