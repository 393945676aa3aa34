"""Back up and restore JetStream streams through the server's snapshot API.

``$JS.API.STREAM.SNAPSHOT.<stream>`` makes the server stream a consistent
copy of the stream's store (its messages, and its durables' positions) while
it keeps serving; ``$JS.API.STREAM.RESTORE.<stream>`` takes such a copy back
on any server where the stream does not exist yet. A backup is a folder per
stream holding ``backup.json`` (the stream's configuration and state) and
``stream.tar.s2`` (the server's own bytes, stored as they came): the same two
files, by name and content, as the NATS project's tooling writes.

For operators (``alongside streams backup`` / ``restore``): the requests need
an admin NATS user, as no service may take or restore a snapshot.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nats.aio.client import Client
from nats.aio.msg import Msg

META_FILE = "backup.json"
DATA_FILE = "stream.tar.s2"
CHUNK_BYTES = 128 * 1024
API = "$JS.API.STREAM"


class SnapshotError(Exception):
    """The server refused a snapshot or restore, or the backup is unusable."""


@dataclass(frozen=True)
class Copied:
    """What a backup or restore moved: the stream, its messages and their sequence range."""

    stream: str
    messages: int
    first_seq: int
    last_seq: int
    bytes: int


def _reply(msg: Msg) -> dict[str, Any]:
    try:
        body = json.loads(msg.data or b"{}")
    except ValueError:
        raise SnapshotError("the server's answer is not JSON") from None
    if not isinstance(body, dict):
        raise SnapshotError("the server's answer is not an object")
    error = body.get("error")
    if error:
        raise SnapshotError(f"the server refused: {error.get('description', error)} (code {error.get('code')})")
    return body


def _copied(stream: str, state: dict[str, Any], size: int) -> Copied:
    return Copied(
        stream, int(state.get("messages", 0)), int(state.get("first_seq", 0)), int(state.get("last_seq", 0)), size
    )


async def backup(nc: Client, stream: str, folder: Path, timeout_s: float = 10.0) -> Copied:
    """Write a snapshot of ``stream`` (with its durables) to ``folder``."""
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    data = folder / DATA_FILE
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    received = 0
    inbox = nc.new_inbox()
    with data.open("wb") as out:

        async def chunk(msg: Msg) -> None:
            nonlocal received
            if done.done():
                return
            status = (msg.headers or {}).get("Status", "")
            if not msg.data:
                # The last message is empty; a status other than success says why it ended early.
                if status and not status.startswith("2"):
                    description = (msg.headers or {}).get("Description", "")
                    done.set_exception(SnapshotError(f"the snapshot ended early: {status} {description}".strip()))
                else:
                    done.set_result(None)
                return
            out.write(msg.data)
            received += len(msg.data)
            if msg.reply:
                await msg.respond(b"")  # flow control: the server sends more as we acknowledge

        sub = await nc.subscribe(inbox, cb=chunk, pending_msgs_limit=-1, pending_bytes_limit=-1)
        try:
            request = {"deliver_subject": inbox, "no_consumers": False, "chunk_size": CHUNK_BYTES, "jsck": True}
            meta = _reply(await nc.request(f"{API}.SNAPSHOT.{stream}", json.dumps(request).encode(), timeout_s))
            # The stream is sent as fast as we take it; wait for its end however large it is, but
            # not for ever on a server that went silent.
            await _until_done(done, lambda: received, timeout_s)
        finally:
            await sub.unsubscribe()
    config, state = meta.get("config", {}), meta.get("state", {})
    (folder / META_FILE).write_text(json.dumps({"config": config, "state": state}, indent=2) + "\n")
    return _copied(stream, state, received)


async def _until_done(done: asyncio.Future[None], progress: Any, idle_s: float) -> None:
    """Wait for ``done``; give up once nothing has arrived for ``idle_s``."""
    last = -1
    while True:
        try:
            await asyncio.wait_for(asyncio.shield(done), idle_s)
            return
        except TimeoutError:
            now = progress()
            if now == last:
                raise SnapshotError(f"the server sent nothing for {idle_s:g} s; the snapshot is incomplete") from None
            last = now


def read_meta(folder: Path) -> dict[str, Any]:
    """The stream configuration and state saved beside a snapshot."""
    try:
        meta = json.loads((folder / META_FILE).read_text())
    except (OSError, ValueError) as exc:
        raise SnapshotError(f"{folder / META_FILE}: cannot read it ({type(exc).__name__})") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("config"), dict) or not meta["config"].get("name"):
        raise SnapshotError(f"{folder / META_FILE}: not a stream backup (no config with a name)")
    if not (folder / DATA_FILE).is_file():
        raise SnapshotError(f"{folder / DATA_FILE}: missing")
    return meta


async def restore(nc: Client, folder: Path, replicas: int | None = None, timeout_s: float = 10.0) -> Copied:
    """Create the stream saved in ``folder`` from its snapshot (it must not exist);
    ``replicas`` overrides the saved number of copies (restoring R3 onto one server)."""
    meta = read_meta(folder)
    config = dict(meta["config"])
    if replicas is not None:
        config["num_replicas"] = replicas
    stream = str(config["name"])
    request = {"config": config, "state": meta.get("state", {})}
    answer = _reply(await nc.request(f"{API}.RESTORE.{stream}", json.dumps(request).encode(), timeout_s))
    target = answer.get("deliver_subject")
    if not target:
        raise SnapshotError("the server gave no subject to send the snapshot to")
    sent = 0
    with (folder / DATA_FILE).open("rb") as data:
        while block := data.read(CHUNK_BYTES):
            ack = await nc.request(target, block, timeout_s)
            if ack.data:
                _reply(ack)
            sent += len(block)
    # The empty message ends the upload; the server then rebuilds the stream, which may take long.
    created = _reply(await nc.request(target, b"", max(timeout_s, 600.0)))
    return _copied(stream, created.get("state", {}), sent)
