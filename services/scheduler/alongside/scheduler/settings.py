"""The scheduler's settings, read from the environment once at start-up.

Everything a programme may tune about scheduling is here: session types,
buffer, daily cap, notice window, reminder offsets, horizons, the urgent
target, and the timings of the background loops.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from alongside.kit.errors import InvalidArgument
from alongside.kit.settings import ConfigError, Settings
from alongside.scheduler.domain.model import Policy, SessionType


@dataclasses.dataclass(frozen=True)
class SchedulerSettings(Settings):
    service_name: str = "scheduler"
    # "name=minutes" pairs, e.g. SESSION_TYPES=intake=60,follow_up=45,check_in=30
    session_types: tuple[str, ...] = ("intake=60", "follow_up=45", "check_in=30")
    # The type auto-booking uses for a first session.
    first_session_type: str = "intake"
    buffer_minutes: int = 15
    max_sessions_per_day: int = 4
    # Cancelling or moving a session closer to its start than this needs staff.
    notice_hours: float = 24.0
    # Minutes before the start, e.g. REMINDER_OFFSETS_MINUTES=1440,60
    reminder_offsets_minutes: tuple[str, ...] = ("1440", "60")
    horizon_days: int = 28
    # How far ahead an explicit booking (or a series' first session) may start.
    booking_horizon_days: int = 366
    min_lead_minutes: int = 120
    slot_step_minutes: int = 15
    urgent_target_hours: int = 48
    reminder_poll_seconds: float = 1.0
    # match.accepted before the peer's availability: retries before giving up.
    availability_retry_limit: int = 5
    consumer_backoff_seconds: float = 1.0
    consumer_ack_wait_seconds: float = 30.0
    plan_time_limit_seconds: float = 10.0
    # The dashboard's small-cell rule (docs/dashboard.md): no count or
    # percentile over fewer than this many leaves GetSessionStats.
    stats_min_cell_size: int = 5

    def validate(self) -> None:
        super().validate()
        for name in ("buffer_minutes", "min_lead_minutes"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name.upper()} must not be negative")
        for name in ("max_sessions_per_day", "horizon_days", "booking_horizon_days", "slot_step_minutes"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name.upper()} must be at least 1")
        for name in ("reminder_poll_seconds", "plan_time_limit_seconds", "consumer_ack_wait_seconds"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name.upper()} must be positive")
        if self.notice_hours < 0 or self.consumer_backoff_seconds < 0 or self.availability_retry_limit < 1:
            raise ConfigError("NOTICE_HOURS, CONSUMER_BACKOFF_SECONDS and AVAILABILITY_RETRY_LIMIT are out of range")
        if self.stats_min_cell_size < 2:
            raise ConfigError("STATS_MIN_CELL_SIZE must be at least 2")
        kinds = self.types()
        if self.first_session_type not in {k.name for k in kinds}:
            raise ConfigError("FIRST_SESSION_TYPE must name one of SESSION_TYPES")
        self.offsets()
        self.policy()

    def types(self) -> tuple[SessionType, ...]:
        try:
            pairs = [item.split("=", 1) for item in self.session_types]
            return tuple(SessionType(name.strip(), int(minutes)) for name, minutes in pairs)
        except (ValueError, InvalidArgument):
            raise ConfigError("SESSION_TYPES must be name=minutes pairs, each 1..480 minutes") from None

    def offsets(self) -> tuple[timedelta, ...]:
        try:
            minutes = [int(m) for m in self.reminder_offsets_minutes]
        except ValueError:
            raise ConfigError("REMINDER_OFFSETS_MINUTES must be whole minutes") from None
        if any(m < 0 for m in minutes):
            raise ConfigError("REMINDER_OFFSETS_MINUTES must not be negative")
        return tuple(timedelta(minutes=m) for m in minutes)

    def policy(self) -> Policy:
        try:
            return Policy(
                buffer=timedelta(minutes=self.buffer_minutes),
                max_sessions_per_day=self.max_sessions_per_day,
                notice=timedelta(hours=self.notice_hours),
                reminder_offsets=self.offsets(),
                horizon=timedelta(days=self.horizon_days),
                min_lead=timedelta(minutes=self.min_lead_minutes),
                step=timedelta(minutes=self.slot_step_minutes),
                urgent_target=timedelta(hours=self.urgent_target_hours),
                session_types=self.types(),
            )
        except InvalidArgument as exc:
            raise ConfigError(f"scheduling policy is invalid: {exc.message}") from None

    @property
    def booking_horizon(self) -> timedelta:
        return timedelta(days=self.booking_horizon_days)
