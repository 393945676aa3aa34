"""Load a session (and its series and calendar) for a change, and run the change.

Changes are optimistic: the commit re-checks that the records read here are
unchanged (``stale`` otherwise) and the whole change is then planned again
on fresh data, a bounded number of times.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from google.protobuf.message import Message

from alongside.kit.errors import Aborted, FailedPrecondition, NotFound
from alongside.scheduler.adapters.codec import PeerCalendar, decode_series, decode_session
from alongside.scheduler.adapters.keys import peer_of
from alongside.scheduler.domain.model import Session, SessionStatus
from alongside.scheduler.domain.recurrence import Series
from alongside.scheduler.service.change import Change
from alongside.scheduler.service.context import MAX_ATTEMPTS, Context, Idem, replayed
from alongside.scheduler.service.rules import REFUSED, refusal

R = TypeVar("R", bound=Message)
Plan = Callable[["Loaded", datetime], Awaitable[tuple[Change, list[Session]]]]


@dataclass(frozen=True)
class Loaded:
    peer_id: str
    calendar: PeerCalendar | None
    raw: bytes
    session: Session
    series_raw: bytes | None = None
    series: Series | None = None

    @property
    def tz(self) -> str:
        """The peer's zone; UTC if the roster never sent one (a change needs no windows)."""
        return self.calendar.tz if self.calendar is not None and self.calendar.tz else "UTC"


async def load(ctx: Context, session_id: str) -> Loaded:
    peer_id = peer_of(session_id)
    raw = await ctx.store.session_raw(peer_id, session_id)
    if raw is None:
        raise NotFound("session not found")
    session = decode_session(raw)
    calendar = await ctx.store.calendar(peer_id)
    if session.series_id is None:
        return Loaded(peer_id, calendar, raw, session)
    series_raw = await ctx.store.series_raw(peer_id, session.series_id)
    if series_raw is None:
        raise NotFound("series not found")
    return Loaded(peer_id, calendar, raw, session, series_raw, decode_series(series_raw))


async def booked_from(ctx: Context, loaded: Loaded, index: int) -> list[tuple[Session, bytes]]:
    """The series' BOOKED occurrences from ``index`` on, with their stored records."""
    assert loaded.series is not None
    ids = [f"{loaded.series.id}.{o.index}" for o in loaded.series.raw_occurrences() if o.index >= index]
    raws = await ctx.store.sessions_raw(loaded.peer_id, ids)
    found = [(decode_session(raw), raw) for raw in raws if raw is not None]
    return [(s, raw) for s, raw in found if s.status is SessionStatus.BOOKED]


async def run_change(
    ctx: Context,
    idem: Idem,
    session_id: str,
    kind: type[R],
    plan: Plan,
    respond: Callable[[list[Session], str], R],
) -> R:
    """Replay, or load -> plan -> commit until the records held still."""
    stored = await ctx.store.idem(idem.redis_key(ctx))
    if stored is not None:
        return replayed(kind, idem, stored)
    for _ in range(MAX_ATTEMPTS):
        loaded = await load(ctx, session_id)
        change, sessions = await plan(loaded, ctx.clock())
        response = respond(sessions, loaded.tz)
        change.finish(idem, response)
        outcome = await change.run()
        if outcome.kind == "ok":
            return response
        if outcome.kind == "replay":
            return replayed(kind, idem, (outcome.fingerprint, outcome.response))
        if outcome.kind in REFUSED:
            raise FailedPrecondition(refusal(outcome.kind, outcome.index, len(sessions) > 1))
    raise Aborted("the session kept changing; retry")
