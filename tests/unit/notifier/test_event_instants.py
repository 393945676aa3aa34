"""An event whose session start is outside protobuf's range can never be
handled: it is dead-lettered at once (``Permanent``), not retried as a crash."""

from __future__ import annotations

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from alongside.api.scheduler.v1 import events_pb2 as session_events
from alongside.kit.events.consumer import Permanent
from alongside.kit.events.envelope import Event
from alongside.notifier.entrypoints.events import to_trigger


@pytest.mark.parametrize("stamp", [Timestamp(seconds=2_500_000_000_000), Timestamp(seconds=1_900_000_000, nanos=-7)])
def test_an_out_of_range_start_is_permanent(stamp: Timestamp) -> None:
    body = session_events.SessionBooked(session_id="s-1", peer_id="p-1", start=stamp)
    with pytest.raises(Permanent):
        to_trigger(Event.of("session.booked", "/alongside/scheduler", body))
