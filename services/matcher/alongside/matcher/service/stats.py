"""GetProgrammeStats: the dashboard's figures over the matcher's own data."""

from __future__ import annotations

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.kit.stats_proto import range_in
from alongside.matcher.adapters.stats_reader import StatsReader
from alongside.matcher.domain.programme_stats import programme_stats
from alongside.matcher.service.context import Context
from alongside.matcher.stats_mappers import intakes_of, loads_of, stats_out


class ProgrammeStatsQuery:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.reader = StatsReader(ctx.store)

    async def get(self, req: pb.GetProgrammeStatsRequest) -> pb.GetProgrammeStatsResponse:
        now_ms = int(self.ctx.clock().timestamp() * 1000)
        rng = range_in(req, now_ms)
        k = self.ctx.settings.stats_min_cell_size
        facts = await self.reader.facts()
        peers, loads = await self.reader.roster()
        intakes = intakes_of(facts, peers, cohort=(rng.start_ms, rng.end_ms))
        stats = programme_stats(intakes, loads_of(peers, loads), rng, now_ms, k)
        return stats_out(stats, rng, k)
