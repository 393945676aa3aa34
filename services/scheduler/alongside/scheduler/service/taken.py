"""Where this process has seen peers booked: a hint, never a verdict.

A booking whose slot looks taken first asks the commit script, writing
nothing, whether it still fits (see ``Booking._probe``); under contention
that is much cheaper than building the whole write (records, event,
reminders, idempotency record) only to have it refused. The hint only
picks that route. The script checks every booking against the calendar as
it is at that instant, so a stale or missing hint costs a round trip or
some CPU, never a wrong refusal and never a double booking.
"""

from __future__ import annotations

from bisect import bisect_left

from alongside.scheduler.domain.validation import MAX_SESSION

MAXLEN_MS = int(MAX_SESSION.total_seconds() * 1000)
MAX_SPANS = 1024  # per peer, beyond those over already; the earliest go first
MAX_PEERS = 4096  # peers remembered; the one noted least recently goes first


class Taken:
    def __init__(self) -> None:
        self._spans: dict[str, list[tuple[int, int]]] = {}  # peer -> sorted (start, end), epoch ms

    def note(self, peer_id: str, start: int, end: int, now: int) -> None:
        """Remember [start, end) as taken, and forget the spans over by ``now``."""
        spans = self._spans.pop(peer_id, [])
        self._spans[peer_id] = spans  # now the most recently noted
        if len(self._spans) > MAX_PEERS:
            del self._spans[next(iter(self._spans))]
        del spans[: bisect_left(spans, (now - MAXLEN_MS,))]
        i = bisect_left(spans, (start, end))
        if i == len(spans) or spans[i] != (start, end):
            spans.insert(i, (start, end))
            del spans[:-MAX_SPANS]

    def likely(self, peer_id: str, start: int, end: int, pad: int) -> bool:
        """True if a known span comes within ``pad`` of [start, end).

        Walks back from the last span starting before ``end + pad``: on a
        busy calendar the first one looked at is usually the one in the way.
        """
        spans = self._spans.get(peer_id, [])
        i, earliest = bisect_left(spans, (end + pad,)), start - pad - MAXLEN_MS
        while i > 0 and spans[i - 1][0] > earliest:
            i -= 1
            if spans[i][1] + pad > start:
                return True
        return False

    def forget(self, peer_id: str, start: int, end: int, pad: int) -> None:
        """The script found [start, end) free: drop the spans that said otherwise."""
        spans = self._spans.get(peer_id)
        if spans:
            spans[:] = [(s, e) for s, e in spans if not (s < end + pad and e + pad > start)]
