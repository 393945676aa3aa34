"""The short chaos profile (about a minute): the journey on the HA topology
through a Valkey failover, a NATS node killed and a service replica killed;
nothing acknowledged lost, nothing doubled (``make chaos`` runs the long one)."""

from __future__ import annotations

from .driver import SHORT, run


async def test_short_chaos_profile_loses_and_doubles_nothing() -> None:
    line = await run(duration_s=36, rate=1.0, faults=SHORT)
    print(line)
    assert " 0 lost, 0 duplicated, 0 failed" in line, line
    assert "3 faults" in line, line
