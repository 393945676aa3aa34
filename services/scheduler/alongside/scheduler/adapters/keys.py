"""The scheduler's Redis layout and its ids.

Everything one booking touches lives under the peer's hash tag
``{peer:<id>}``, so the conflict check and the write are one script on one
slot (also on Redis Cluster):

=================  ====  ==================================================
``cal``            hash  windows, zone and status from ``peer.*`` events
``off``            hash  time off: id -> "start_ms|end_ms"
``sessions``       hash  session id -> stored ``Session`` protobuf
``series``         hash  series id -> stored series (JSON)
``booked``         zset  live sessions, member "sid|end_ms", score start_ms
``idx``            zset  every session, lex member "<start_ms:013>|sid"
``byp:<ref>``      zset  the same, for one participant
``bymatch:<id>``   set   session ids of one match
``rem``            zset  pending reminder ids, score due_ms
``intake``         hash  match id -> "requested_ms|URGENCY" (dashboard)
``facts``          hash  session id -> "start_ms|status letter|match id" (dashboard)
``groups``         hash  group id -> stored group session (JSON), on the host's tag
``grp:<id>``       hash  a group's roster state: cap, st, seq, v, e:<ref> -> entry
``grp:<id>:in``    zset  enrolled refs, score arrival seq
``grp:<id>:wait``  zset  the waiting list, score arrival seq
``grp:<id>:att``   hash  "<occurrence>|<ref>" -> A (attended) or N (absent)
``cogroups``       set   groups this peer co-facilitates (their meetings are in ``booked``)
``outbox``         stream  the kit's transactional outbox
``idem:*``         hash  idempotency records (the kit's layout)
=================  ====  ==================================================

Cross-peer keys: ``{dir}:peers`` lists every peer with a calendar (written
before the calendar, so it is a superset); listings across peers and the
reminder loop read each peer's own keys from it. ``{plan}`` holds accepted
matches waiting for the planner.
"""

from __future__ import annotations

from alongside.kit.ids import SCOPE_SEP, check_id, check_scoped_id, new_id, scoped_id
from alongside.kit.redis import Keys

SEP = SCOPE_SEP  # never occurs in a peer id, so a session id names its peer


def require_peer_id(peer_id: str, field: str = "peer_id") -> str:
    return check_id(field, peer_id)


def require_ref(value: str, field: str) -> str:
    """A match id or participant reference: the kit's one id rule."""
    return check_id(field, value)


def new_session_id(peer_id: str) -> str:
    return scoped_id(peer_id, new_id("s"))


def new_series_id(peer_id: str) -> str:
    return scoped_id(peer_id, new_id("r"))


def peer_of(session_id: str, field: str = "session_id") -> str:
    """The peer a session (or series) id belongs to, from the id alone:
    ``<peer id>~<id>``, the kit's scoped id (an occurrence adds ``.<n>``)."""
    return check_scoped_id(field, session_id)


def occurrence_of(session_id: str) -> tuple[str, int] | None:
    """(series id, index) for an occurrence id ``<series>.<index>``, else None."""
    head, dot, tail = session_id.rpartition(".")
    if not dot or not tail.isdigit() or SEP not in head:
        return None
    return head, int(tail)


def new_group_id(peer_id: str) -> str:
    return scoped_id(peer_id, new_id("g"))


def peer_tag(peer_id: str) -> str:
    return f"peer:{peer_id}"


class SchedulerKeys:
    def __init__(self, keys: Keys) -> None:
        self.k = keys
        self._prefixes: dict[str, str] = {}

    def peer(self, peer_id: str, *rest: str) -> str:
        prefix = self._prefixes.get(peer_id)
        if prefix is None:
            # Built once per peer: this runs several times for every booking.
            prefix = self._prefixes[peer_id] = self.k.key(peer_tag(peer_id))
        return ":".join((prefix, *rest))

    def cal(self, peer_id: str) -> str:
        return self.peer(peer_id, "cal")

    def off(self, peer_id: str) -> str:
        return self.peer(peer_id, "off")

    def sessions(self, peer_id: str) -> str:
        return self.peer(peer_id, "sessions")

    def series(self, peer_id: str) -> str:
        return self.peer(peer_id, "series")

    def booked(self, peer_id: str) -> str:
        return self.peer(peer_id, "booked")

    def idx(self, peer_id: str) -> str:
        return self.peer(peer_id, "idx")

    def by_participant(self, peer_id: str, ref: str) -> str:
        return self.peer(peer_id, "byp", ref)

    def by_match(self, peer_id: str, match_id: str) -> str:
        return self.peer(peer_id, "bymatch", match_id)

    def reminders(self, peer_id: str) -> str:
        return self.peer(peer_id, "rem")

    def facts(self, peer_id: str) -> str:
        """What the dashboard reads of each session, written with the session itself."""
        return self.peer(peer_id, "facts")

    def intake(self, peer_id: str) -> str:
        """When each of the peer's matches was requested, from ``match.accepted``."""
        return self.peer(peer_id, "intake")

    # Group sessions (docs/scheduler.md, "Group sessions"), on the host's tag.
    def groups(self, peer_id: str) -> str:
        return self.peer(peer_id, "groups")

    def group(self, peer_id: str, group_id: str, *rest: str) -> str:
        return self.peer(peer_id, "grp", group_id, *rest)

    def group_facts(self, peer_id: str) -> str:
        """The dashboard's attendance facts: "<group>|<meeting>|<enrolment>" -> "start_ms|A or N"."""
        return self.peer(peer_id, "gatt")

    def cogroups(self, peer_id: str) -> str:
        return self.peer(peer_id, "cogroups")

    def idem(self, tag: str, scope: str, key: str) -> str:
        """The kit's ``UnitOfWork`` idempotency layout, so both can share records."""
        return self.k.key(tag, "idem", scope, key)

    @property
    def peers(self) -> str:
        return self.k.key("dir", "peers")

    @property
    def pending(self) -> str:
        return self.k.key("plan", "pending")

    def attempts(self, event_id: str) -> str:
        return self.k.key("plan", "attempts", event_id)
