"""One atomic change to a peer's calendar, described in domain terms.

A use case adds, replaces and guards sessions here; ``Change`` turns them
into the ops of one ``commit.lua`` call: the session records, the booked
set (with the conflict check of every new or moved interval, buffers and
the daily cap included), the listing indexes, the reminders, the outbox
events and the idempotency record. Either all of it is written or nothing.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from google.protobuf.message import Message

from alongside.kit.events.envelope import Event
from alongside.kit.uow import IDEMPOTENCY_TTL_S
from alongside.scheduler.adapters.codec import (
    PeerCalendar,
    booked_member,
    encode_series,
    encode_session,
    index_member,
    ms,
    session_fact,
)
from alongside.scheduler.adapters.commit import Candidate, Commit, Outcome
from alongside.scheduler.adapters.keys import peer_tag
from alongside.scheduler.domain import tz as tzx
from alongside.scheduler.domain.model import Session
from alongside.scheduler.domain.recurrence import Series
from alongside.scheduler.domain.reminders import reminder_id, reminders
from alongside.scheduler.domain.validation import MAX_SESSION
from alongside.scheduler.service.context import Context, Idem


class Change:
    def __init__(self, ctx: Context, peer_id: str, zone: ZoneInfo, now: datetime) -> None:
        self.ctx, self.peer_id, self.zone, self.now = ctx, peer_id, zone, now
        self.k = ctx.store.k
        self.commit = Commit()
        self.candidates: list[Candidate] = []
        self.ignore: list[str] = []

    def guard_calendar(self, calendar: PeerCalendar) -> None:
        """Refuse as stale if the peer's windows or status changed since we read them."""
        key = self.k.cal(self.peer_id)
        self.commit.expect(key, "av", str(calendar.availability_version).encode())
        self.commit.expect(key, "active", b"1")

    def guard_session(self, session_id: str, raw: bytes | None) -> None:
        self.commit.expect(self.k.sessions(self.peer_id), session_id, raw)

    def guard_series(self, series_id: str, raw: bytes | None) -> None:
        self.commit.expect(self.k.series(self.peer_id), series_id, raw)

    def add(self, session: Session) -> None:
        """A new session; if live, its interval is checked against the calendar."""
        self.commit.hset(self.k.sessions(self.peer_id), session.id, encode_session(session))
        self.commit.hset(self.k.facts(self.peer_id), session.id, session_fact(session))
        self._index(session)
        if session.match_id:
            self.commit.sadd(self.k.by_match(self.peer_id, session.match_id), session.id)
        if session.is_live:
            self._occupy(session)
        self._remind(session, set())

    def replace(self, before: Session, after: Session) -> None:
        """A changed session: moved intervals are re-checked, ignoring the old one."""
        self.commit.hset(self.k.sessions(self.peer_id), after.id, encode_session(after))
        self.commit.hset(self.k.facts(self.peer_id), after.id, session_fact(after))
        if index_member(before) != index_member(after):
            self._unindex(before)
            self._index(after)
        if before.is_live:
            self.commit.zrem(self.k.booked(self.peer_id), booked_member(before))
            self.ignore.append(booked_member(before))
        if after.is_live:
            if before.is_live and before.interval == after.interval:
                self.commit.zadd(self.k.booked(self.peer_id), ms(after.start), booked_member(after))
            else:
                self._occupy(after)
        stale = {reminder_id(before, offset) for offset in self.ctx.policy.reminder_offsets}
        self._remind(after, stale)

    def put_series(self, series: Series) -> None:
        self.commit.hset(self.k.series(self.peer_id), series.id, encode_series(series))

    def emit(self, event: Event) -> None:
        tag = peer_tag(self.peer_id)
        self.commit.emit(tag, self.ctx.outbox.key(tag), event)

    def probe(self, idem: Idem, sessions: list[Session]) -> None:
        """Only the replay and the checks ``add`` would make: the script writes nothing."""
        self.commit.replay_from(idem.redis_key(self.ctx))
        self.candidates.extend(self._candidate(session) for session in sessions if session.is_live)

    def finish(self, idem: Idem, response: Message) -> bytes:
        """Bind the change to its idempotency record; returns the response bytes."""
        raw = response.SerializeToString(deterministic=True)
        key = idem.redis_key(self.ctx)
        self.commit.replay_from(key)
        self.commit.remember(key, idem.fingerprint, raw, IDEMPOTENCY_TTL_S)
        return raw

    async def run(self) -> Outcome:
        if self.candidates:
            self.commit.check(
                self.k.booked(self.peer_id),
                self.k.off(self.peer_id),
                self.candidates,
                buffer_ms=int(self.ctx.policy.buffer.total_seconds() * 1000),
                maxlen_ms=int(MAX_SESSION.total_seconds() * 1000),
                cap=self.ctx.policy.max_sessions_per_day,
                ignore=self.ignore,
            )
        outcome = await self.ctx.committer.run(self.commit)
        # A replay may be this very commit, re-sent after its reply was lost
        # (``PipelinedFunction``): its entries are in the outbox, so tell the
        # relay now rather than leave them to its next sweep.
        if outcome.kind in ("ok", "replay"):
            await self.ctx.outbox.committed(self.commit.tags)
        return outcome

    def _occupy(self, session: Session) -> None:
        self.commit.zadd(self.k.booked(self.peer_id), ms(session.start), booked_member(session))
        self.candidates.append(self._candidate(session))

    def _candidate(self, session: Session) -> Candidate:
        day = tzx.local_of(session.start, self.zone).date()
        return Candidate(ms(session.start), ms(session.end), *day_bounds(day, self.zone))

    def _index(self, session: Session) -> None:
        member = index_member(session)
        self.commit.zadd(self.k.idx(self.peer_id), 0, member)
        self.commit.zadd(self.k.by_participant(self.peer_id, session.participant_ref), 0, member)

    def _unindex(self, session: Session) -> None:
        member = index_member(session)
        self.commit.zrem(self.k.idx(self.peer_id), member)
        self.commit.zrem(self.k.by_participant(self.peer_id, session.participant_ref), member)

    def _remind(self, session: Session, stale: set[str]) -> None:
        """Schedule the session's reminders and withdraw ``stale`` ids it no longer has.

        Every old id is withdrawn, due or not: one that fell due a moment ago
        but was not fired yet must not fire for a cancelled or moved session.
        """
        fresh = reminders(session, self.ctx.policy.reminder_offsets, self.now)
        key = self.k.reminders(self.peer_id)
        for old in sorted(stale - {r.id for r in fresh}):
            self.commit.zrem(key, old)
        for reminder in fresh:
            self.commit.zadd(key, ms(reminder.due_at), reminder.id)


@lru_cache(maxsize=4096)
def day_bounds(day: date, zone: ZoneInfo) -> tuple[int, int]:
    """The UTC span of a peer-local date (23 or 25 hours on a change day)."""
    midnight = datetime(day.year, day.month, day.day)
    start = tzx.to_utc_clamped(midnight, zone)
    end = tzx.to_utc_clamped(midnight + timedelta(days=1), zone)
    return ms(start), ms(end)
