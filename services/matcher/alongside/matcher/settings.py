"""The matcher's settings, read from the environment once at start-up."""

from __future__ import annotations

import dataclasses

from alongside.kit.settings import ConfigError, Settings
from alongside.matcher.adapters.policy_file import load_policy
from alongside.matcher.domain.programme_policy import BatchWeights, ProgrammePolicy


@dataclasses.dataclass(frozen=True)
class MatcherSettings(Settings):
    service_name: str = "matcher"
    # Each intake commits two events: relayed inline they took about a fifth
    # of the event loop's CPU per call (docs/benchmarks.md).
    outbox_relay: str = "process"
    # Candidates returned by SubmitMatchRequest when the caller does not say.
    shortlist_size: int = 5
    # Batch matching: the default solver time limit and the weight of urgency
    # and time waited against fit (fit scores run 0..~15). A programme policy
    # document's batch section overrides the two weights.
    batch_time_limit_seconds: float = 10.0
    batch_urgency_weight: float = 5.0
    batch_wait_weight_per_week: float = 1.0
    # The programme's policy document (docs/matcher.md, "Programme policy"),
    # read once at start-up; empty means the built-in policy.
    policy_file: str = ""
    # A pair is available only if a session fits every week for this many
    # weeks from today, across both zones' clock changes (docs/matcher.md);
    # 0 checks the week of today only.
    engagement_horizon_weeks: int = 26
    # Re-shortlist at most this many waiting requests after capacity frees up.
    rematch_limit: int = 500
    # Erasure (docs/matcher.md). Whether the programme erases a participant
    # when they ask; off by default, as many programmes must keep records.
    erasure_on_request: bool = False
    # Days after a participant's last match closed before their data is
    # erased by the sweep; 0 keeps it until erased on request.
    retention_days: float = 0.0
    # How often the sweep looks for participants past retention, and retries
    # erasures whose stream scrub has not finished.
    erasure_sweep_seconds: float = 3600.0
    # The dashboard's small-cell rule (docs/dashboard.md): no count or
    # percentile over fewer than this many people leaves GetProgrammeStats.
    stats_min_cell_size: int = 5
    # Community groups offered at intake beside the shortlist (docs/matcher.md,
    # "Community groups"); 0 offers none.
    group_offer_size: int = 3

    def programme_policy(self) -> ProgrammePolicy:
        """The policy the matcher runs: the document's, or the built-in one
        (with this service's batch weights) when there is none."""
        base = ProgrammePolicy(batch=BatchWeights(self.batch_urgency_weight, self.batch_wait_weight_per_week))
        if not self.policy_file:
            return base
        return load_policy(self.policy_file, base)

    def validate(self) -> None:
        super().validate()
        self.programme_policy()  # a bad policy document stops the start, naming the field
        if not 1 <= self.shortlist_size <= 50:
            raise ConfigError("SHORTLIST_SIZE must be between 1 and 50")
        if self.batch_time_limit_seconds <= 0:
            raise ConfigError("BATCH_TIME_LIMIT_SECONDS must be positive")
        if not 0 <= self.engagement_horizon_weeks <= 104:
            raise ConfigError("ENGAGEMENT_HORIZON_WEEKS must be between 0 and 104")
        if self.rematch_limit < 0:
            raise ConfigError("REMATCH_LIMIT must not be negative")
        if self.retention_days < 0:
            raise ConfigError("RETENTION_DAYS must not be negative")
        if self.erasure_sweep_seconds <= 0:
            raise ConfigError("ERASURE_SWEEP_SECONDS must be positive")
        if self.stats_min_cell_size < 2:
            raise ConfigError("STATS_MIN_CELL_SIZE must be at least 2")
        if not 0 <= self.group_offer_size <= 10:
            raise ConfigError("GROUP_OFFER_SIZE must be between 0 and 10")
