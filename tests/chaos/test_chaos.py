"""The short chaos profile (about a minute): the journey on the HA topology
through a Valkey failover, a NATS node killed and a service replica killed;
nothing acknowledged lost, nothing doubled, and the stores agree (loads,
sessions, audit trail, no dead letters) (``make chaos`` runs the long one)."""

from __future__ import annotations

import pytest

from .driver import SHORT, passed, run


@pytest.mark.serial  # faults on a schedule and an HA stack of its own: make test runs it alone
async def test_short_chaos_profile_loses_and_doubles_nothing() -> None:
    line = await run(duration_s=36, rate=1.0, faults=SHORT)
    print(line)
    assert passed(line), line
    assert "3 faults" in line, line
