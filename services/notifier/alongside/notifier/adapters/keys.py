"""The notifier's Redis layout.

Everything about one peer shares the hash tag ``{peer:<id>}``: preferences,
the inbox stream, each notification record and the peer's pending jobs, so
writing an inbox item with its jobs and outbox entry is one atomic
transaction on one slot. The due index, ``{delivery}:due``, is the one
cross-peer key: a schedule of hints that workers claim from; the peer's own
``jobs`` set stays the truth and a sweep rebuilds the index from it.
"""

from __future__ import annotations

from alongside.kit.redis import Keys
from alongside.notifier.domain.model import Channel
from alongside.notifier.service.model import Job

PEER_PREFIX = "peer:"
SEPARATOR = "|"  # never in an id (ids are letters, digits and ._:-)


class NotifierKeys:
    def __init__(self, keys: Keys) -> None:
        self.base = keys

    def tag(self, peer_id: str) -> str:
        return PEER_PREFIX + peer_id

    def prefs(self, peer_id: str) -> str:
        return self.base.key(self.tag(peer_id), "prefs")

    def inbox(self, peer_id: str) -> str:
        return self.base.key(self.tag(peer_id), "inbox")

    def record(self, peer_id: str, notification_id: str) -> str:
        return self.base.key(self.tag(peer_id), "n", notification_id)

    def revoked(self, peer_id: str) -> str:
        """The peer's matches whose participant revoked consent (a set)."""
        return self.base.key(self.tag(peer_id), "revoked")

    def session_matches(self, peer_id: str) -> str:
        """Session id -> match id, learnt from session events that carry both."""
        return self.base.key(self.tag(peer_id), "session-match")

    def jobs(self, peer_id: str) -> str:
        return self.base.key(self.tag(peer_id), "jobs")

    @property
    def jobs_pattern(self) -> str:
        return self.base.pattern("jobs")

    @property
    def due(self) -> str:
        return self.base.key("delivery", "due")

    def peer_of(self, key: str) -> str:
        """The peer id in a key of this layout."""
        tag = key[key.index("{") + 1 : key.index("}")]
        return tag.removeprefix(PEER_PREFIX)


def job_member(job: Job) -> str:
    """The job's member in its peer's ``jobs`` set."""
    return job.notification_id + SEPARATOR + job.channel.value


def due_member(job: Job) -> str:
    """The job's member in the cross-peer due index."""
    return job.peer_id + SEPARATOR + job_member(job)


def parse_due_member(member: bytes | str) -> Job:
    text = member.decode() if isinstance(member, bytes) else member
    peer_id, notification_id, channel = text.split(SEPARATOR)
    return Job(peer_id, notification_id, Channel(channel))


def parse_job_member(peer_id: str, member: bytes | str) -> Job:
    text = member.decode() if isinstance(member, bytes) else member
    notification_id, channel = text.split(SEPARATOR)
    return Job(peer_id, notification_id, Channel(channel))
