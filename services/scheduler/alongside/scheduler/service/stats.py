"""GetSessionStats: session outcomes and time to first session, in aggregate."""

from __future__ import annotations

from alongside.api.scheduler.v1 import scheduler_pb2 as pb
from alongside.kit.stats_proto import range_in
from alongside.scheduler.adapters.stats_reader import StatsReader
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
        facts, intakes = await self.reader.facts_and_intakes(await self.reader.peers())
        stats = session_stats(sessions_of(facts), intake_times(intakes), rng, k)
        return stats_out(stats, rng, k)
