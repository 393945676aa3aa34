"""Each test's own peers and participants, so tests can share one stack.

A ``Cohort`` is a private slice of the shared roster: only its peers hold
its certification and its intakes require it, so no other test's peers or
participants ever meet them. Its peers live in a zone where it is about
noon, so sessions booked in the next hours never cross a local midnight.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from google.protobuf.timestamp_pb2 import Timestamp

from alongside.api.common.v1 import types_pb2
from alongside.api.matcher.v1 import matcher_pb2 as mpb

ALL_WEEK = [types_pb2.WeeklyWindow(day=d, start_minute=0, end_minute=1440) for d in range(1, 8)]


def key() -> str:
    return "e2e-" + uuid.uuid4().hex


def noon_zone(now: datetime) -> str:
    """A fixed-offset zone where it is about noon now, so that every session a
    test books in the next hours stays on one local day whatever the UTC time."""
    offset = 12 - now.astimezone(UTC).hour  # -11..+12
    return "Etc/GMT" + ("-" if offset > 0 else "+") + str(abs(offset)) if offset else "Etc/GMT"


def ts(instant: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(instant)
    return stamp


def at(stamp: Timestamp) -> datetime:
    return stamp.ToDatetime(tzinfo=UTC)


@dataclass
class Cohort:
    """Peers ``peer-<tag>-<n>`` and participants ``ref-<tag>-<name>``; the
    display names and email addresses are canaries for the privacy checks."""

    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    zone: str = field(default_factory=lambda: noon_zone(datetime.now(UTC)))

    @property
    def cert(self) -> str:
        return f"E2E-{self.tag}".upper()

    def peer_id(self, n: int) -> str:
        return f"peer-{self.tag}-{n}"

    def display_name(self, n: int) -> str:
        return f"Canaryname Zq{self.tag}x{n}"

    def email(self, n: int) -> str:
        return f"canary.{self.tag}.{n}@example.org"

    def peer(self, n: int, **overrides: Any) -> mpb.Peer:
        fields: dict[str, Any] = {
            "peer_id": self.peer_id(n),
            "display_name": self.display_name(n),
            "types": [mpb.PEER_TYPE_RECOVERY_COACH],
            "certifications": [self.cert],
            "languages": ["en"],
            "modalities": [mpb.MODALITY_PHONE, mpb.MODALITY_VIDEO],
            "age_groups": [mpb.AGE_BAND_ADULT],
            "time_zone": self.zone,
            "availability": ALL_WEEK,
            "capacity": 3,
            "status": mpb.PEER_STATUS_ACTIVE,
        }
        fields.update(overrides)
        return mpb.Peer(**fields)

    def intake(
        self, ref: str, availability: list[types_pb2.WeeklyWindow] | None = None, **overrides: Any
    ) -> mpb.SubmitMatchRequestRequest:
        participant = mpb.Participant(
            participant_ref=f"ref-{self.tag}-{ref}",
            age_band=mpb.AGE_BAND_ADULT,
            time_zone=self.zone,
            availability=availability or ALL_WEEK,
        )
        fields: dict[str, Any] = {
            "idempotency_key": key(),
            "participant": participant,
            "peer_types": [mpb.PEER_TYPE_RECOVERY_COACH],
            "preferences": self.preferences(),
            "urgency": mpb.URGENCY_ROUTINE,
            "acuity": 1,
            "session_minutes": 15,
        }
        fields.update(overrides)
        return mpb.SubmitMatchRequestRequest(**fields)

    def preferences(self, **extra: Any) -> mpb.Preferences:
        """The cohort's certification, required, plus any other preferences."""
        required = mpb.Preference(values=[self.cert], strength=mpb.STRENGTH_REQUIRED)
        return mpb.Preferences(certifications=required, **extra)

    def tomorrow_only(self) -> list[types_pb2.WeeklyWindow]:
        """The participant's whole next local day, so the first session lands tomorrow."""
        tomorrow = datetime.now(ZoneInfo(self.zone)) + timedelta(days=1)
        return [types_pb2.WeeklyWindow(day=tomorrow.isoweekday(), start_minute=0, end_minute=1440)]
