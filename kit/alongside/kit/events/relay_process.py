"""The outbox relay in a process of its own (``OUTBOX_RELAY=process``, the matcher's default).

A grpc.aio service runs its Python on one thread. Relaying there (reading the
outbox, publishing to JetStream, settling the PubAcks, trimming) took about a
sixth of the matcher's CPU per intake, and calls waited behind each relay
pass. In a child process the relay runs beside the service, on another core.

The service starts the child (``python -m alongside.kit.events.relay_process``)
and talks to it over two pipes:

- the child's stdin: first one line of JSON with what it connects to (the
  service's own settings, which may come from code rather than the
  environment; the URLs may hold credentials, so never the command line),
  then the outbox keys that commits touched, one per line: the same hint the
  inline relay gets in memory. End of file (the service stopped,
  or died) makes the child finish its pass, try once more, and exit;
- a report pipe back: ``r`` once connected, ``p N`` when N events were
  published, ``f`` when a pass failed (the service counts these in its own
  metrics).

A child that dies is started again, and a new child's first pass sweeps every
outbox, so no event waits for a hint that was lost; ``Nats-Msg-Id`` makes a
re-publish a no-op.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import signal
import sys
from typing import Any, BinaryIO

from alongside.kit import logging, loop, metrics, tracing
from alongside.kit import nats as kit_nats
from alongside.kit import redis as kit_redis
from alongside.kit.aio import wait_any
from alongside.kit.broker_tls import BrokerTls
from alongside.kit.events.outbox import Outbox, OutboxRelay
from alongside.kit.redis import Keys
from alongside.kit.settings import Settings

# A pass waits this long after a hint, so it carries the entries of several
# commits: under load a third less CPU per event, for at most 5 ms more latency.
LINGER_S = 0.005
_MAX_UNREAD = 1 << 20  # hint bytes the child has not read; past this they are dropped (its sweep finds them)


class RelayProcess:
    """The service's side: start the child, hand it hints, count its reports."""

    def __init__(self, settings: Settings, outbox: Outbox) -> None:
        self._settings, self._outbox = settings, outbox
        self.pid: int | None = None
        self.published = 0
        self._stdin: asyncio.StreamWriter | None = None
        self._flushing = False
        self._ready = False  # the child is connected and relaying

    async def run(self, stop: asyncio.Event) -> None:
        """Relay through one child until ``stop``; raise if the child exits first."""
        read_fd, write_fd = os.pipe()
        try:
            child = await asyncio.create_subprocess_exec(
                sys.executable, "-m", __name__, stdin=asyncio.subprocess.PIPE, pass_fds=(write_fd,)
            )
        except BaseException:
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)
        self.pid = child.pid
        gone = asyncio.Event()
        self._ready = False
        reports = asyncio.create_task(self._reports(read_fd, gone))
        assert child.stdin is not None
        child.stdin.write(json.dumps(self._config(write_fd)).encode() + b"\n")
        self._stdin = child.stdin
        self._outbox.on_commit = self._soon
        self._flush()  # what was committed while no child ran
        try:
            await wait_any((stop, gone), float("inf"))
        finally:
            self._flush()  # the last commits' keys, so the child's final pass takes them
            self._outbox.on_commit, self._stdin = self._outbox.wakeup.set, None
            child.stdin.close()
            if not self._ready:  # it has published nothing yet: stopping it now loses nothing
                child.kill()
            try:
                await asyncio.wait_for(child.wait(), self._settings.grace_seconds + 1.0)
            except TimeoutError:
                child.kill()
                await child.wait()
            await reports
        if not stop.is_set():
            raise ChildProcessError(f"the outbox relay process exited with code {child.returncode}")

    @property
    def hinting(self) -> bool:
        """A child is running and takes hints (false once the service is stopping)."""
        return self._stdin is not None

    def _soon(self) -> None:
        """After a commit: hand its keys on once this loop iteration's other commits are in too."""
        if not self._flushing:
            self._flushing = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flushing = False
        stdin = self._stdin
        if stdin is None or stdin.is_closing() or not self._outbox.pending:
            return
        keys, self._outbox.pending = self._outbox.pending, set()
        if stdin.transport.get_write_buffer_size() < _MAX_UNREAD:
            stdin.write("".join(f"{key}\n" for key in keys).encode())

    def _config(self, report_fd: int) -> dict[str, Any]:
        s = self._settings
        return {
            "service_name": s.service_name,
            "namespace": s.namespace,
            "redis_url": s.redis_url,
            "nats_url": s.nats_url,
            "nats_tls": dataclasses.asdict(s.nats_tls()),
            "redis_tls": dataclasses.asdict(s.redis_tls()),
            "log_level": s.log_level,
            "event_loop": s.event_loop,
            "grace_seconds": s.grace_seconds,
            "report_fd": report_fd,
        }

    async def _reports(self, fd: int, gone: asyncio.Event) -> None:
        reader = asyncio.StreamReader()
        loop = asyncio.get_running_loop()
        transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(fd, "rb", buffering=0)
        )
        try:
            while line := await reader.readline():
                kind, _, count = line.strip().partition(b" ")
                if kind == b"r":
                    self._ready = True
                elif kind == b"p":
                    self.published += int(count)
                    metrics.EVENTS_PUBLISHED.inc(int(count))
                elif kind == b"f":
                    metrics.RELAY_FAILURES.inc()
        finally:
            transport.close()
            gone.set()


# The child.


async def _relay(config: dict[str, Any], hints: asyncio.StreamReader) -> None:
    report_fd: int = config["report_fd"]

    def report(line: bytes) -> None:
        with contextlib.suppress(OSError):  # the service is gone: nobody counts any more
            os.write(report_fd, line)

    keys = Keys(config["namespace"], config["service_name"])
    r = kit_redis.client(config["redis_url"], tls=BrokerTls(**config["redis_tls"]))
    nc = await kit_nats.connect(config["nats_url"], config["service_name"], tls=BrokerTls(**config["nats_tls"]))
    outbox = Outbox(r, keys)
    relay = OutboxRelay(
        r,
        nc.jetstream(),
        outbox,
        keys,
        config["namespace"],
        on_published=lambda count: report(b"p %d\n" % count),
        on_failure=lambda: report(b"f\n"),
        linger_s=LINGER_S,
    )
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)  # as if its service had stopped

    async def take_hints() -> None:
        while line := await hints.readline():
            if key := line.decode().strip():
                outbox.pending.add(key)
                outbox.wakeup.set()
        stop.set()

    hinting = asyncio.create_task(take_hints())
    report(b"r\n")
    try:
        await relay.run(stop)
        # The service has stopped: relay what its last calls committed, if NATS lets us in time.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(relay.drain(), config["grace_seconds"])
    finally:
        hinting.cancel()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(nc.close(), 1.0)
        await r.aclose()


async def _main(config: dict[str, Any], stdin: BinaryIO) -> None:
    hints = asyncio.StreamReader()
    await asyncio.get_running_loop().connect_read_pipe(lambda: asyncio.StreamReaderProtocol(hints), stdin)
    await _relay(config, hints)


def main() -> int:
    # The service stops the relay by closing its stdin (or SIGTERM does); a
    # Ctrl-C meant for the service, which reaches its whole process group,
    # must not cut the last pass short.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    stdin = os.fdopen(0, "rb", buffering=0, closefd=False)
    first = stdin.readline()  # unbuffered: the hints after it stay in the pipe
    if not first:
        return 0
    config = json.loads(first)
    logging.configure(config["service_name"], config["log_level"], final=True)
    # The publish spans (the service's OTEL_* reach the child through its environment).
    provider = tracing.configure(config["service_name"])
    try:
        loop.run(_main(config, stdin), config["event_loop"])
    finally:
        if provider is not None:
            provider.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
