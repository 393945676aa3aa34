"""Removing an erased participant's events from a JetStream stream.

Events carry ids, but a few carry a participant's pseudonymous reference or
availability (``match.accepted``, ``session.booked``), and a stream keeps
them for its retention period. At erasure the owner of a stream deletes
those messages: the server overwrites a deleted message's bytes on disk (a
delete without ``no_erase``), so nothing readable is left. Only the stream's
owner does this, for its own stream, and the audit stream denies deletes.

The walk reads one subject's messages in sequence order (``next_by_subj``),
so its cost is the number of messages of that one event type still kept.
"""

from __future__ import annotations

from collections.abc import Callable

from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

Wanted = Callable[[bytes], bool]


async def scrub_stream(js: JetStreamContext, stream: str, subject: str, wanted: Wanted) -> int:
    """Delete (and overwrite) every message on ``subject`` whose body ``wanted``
    selects; the number deleted. Running it again finds nothing more."""
    seq, deleted = 1, 0
    while True:
        try:
            msg = await js.get_msg(stream, seq=seq, subject=subject, next=True)
        except NotFoundError:
            return deleted
        if msg.seq is None:
            return deleted
        if wanted(msg.data or b""):
            try:
                await js.delete_msg(stream, msg.seq)
                deleted += 1
            except NotFoundError:  # aged out or deleted meanwhile
                pass
        seq = msg.seq + 1
