"""Removing an erased participant's events from a JetStream stream.

Events carry ids, but a few carry a participant's pseudonymous reference or
availability (``match.accepted``, ``session.booked``), and a stream keeps
them for its retention period. At erasure the owner of a stream deletes
those messages: the server overwrites a deleted message's bytes on disk (a
delete without ``no_erase``), so nothing readable is left. Only the stream's
owner does this, for its own stream, and the audit stream denies deletes.

Dead letters keep the original body, so the same events are also looked for
among the dead letters of the consumers that read them (``dlq.<durable>``,
with the original subject in a header).

The walk reads one subject's messages in sequence order (``next_by_subj``),
so its cost is the number of messages of that one event type still kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from nats.js import JetStreamContext
from nats.js.errors import APIError, NotFoundError

# Selects a message by its headers and body.
Wanted = Callable[[dict[str, str], bytes], bool]
DLQ_SUBJECT_HEADER = "alongside-dlq-subject"  # where a dead letter first came from (kit consumer)
# JetStream's "no message found" and "sequence not found": already deleted.
GONE = frozenset({10057, 10043})


async def scrub_stream(js: JetStreamContext, stream: str, subject: str, wanted: Wanted) -> int:
    """Delete (and overwrite) every message on ``subject`` that ``wanted``
    selects; the number deleted. Running it again finds nothing more."""
    seq, deleted = 1, 0
    while True:
        try:
            msg = await js.get_msg(stream, seq=seq, subject=subject, next=True)
        except NotFoundError:
            return deleted
        if msg.seq is None:
            return deleted
        if wanted(dict(msg.headers or {}), msg.data or b""):
            try:
                await js.delete_msg(stream, msg.seq)
                deleted += 1
            except APIError as exc:
                if exc.err_code not in GONE:  # else aged out, or deleted meanwhile by another replica
                    raise
        seq = msg.seq + 1


async def unrelayed(r: Any, outbox_key: str, event_type: str, ids: Iterable[str]) -> bool:
    """True while the outbox still holds an event of ``event_type`` whose body
    names one of ``ids``: scrub the stream only after the relay has put it
    there (it trims an entry only once JetStream has acknowledged it). The
    outbox stays short, as the relay trims behind itself."""
    needles = [i.encode() for i in ids]
    for _, fields in await r.xrange(outbox_key):
        if fields.get(b"type") == event_type.encode() and any(n in fields.get(b"body", b"") for n in needles):
            return True
    return False
