"""``alongside streams provision``: create or update the JetStream streams;
``backup`` and ``restore``: copy them out and back through the snapshot API.

For operators. Where the broker lets services only check that the streams
exist (``PROVISION_STREAMS=false``, as in deploy/nats), run ``provision`` once
with an admin NATS user in ``NATS_URL`` before the services start, and again
after an upgrade that changes the catalogue. Safe to run any number of times.
``backup`` runs while everything serves; ``restore`` goes to a server where
the streams do not exist yet, before ``provision`` (docs/operations.md).
"""

from __future__ import annotations

import asyncio
import dataclasses
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar
from urllib.parse import urlsplit

import nats
import typer
from nats.aio.client import Client
from nats.errors import Error as NatsError

from alongside.cli.errors import CliError, ExitCode, handled
from alongside.cli.output import Output
from alongside.cli.state import session
from alongside.kit.broker_tls import BrokerTls, TlsConfigError, nats_options
from alongside.kit.events.snapshots import META_FILE, Copied, SnapshotError, backup, restore
from alongside.kit.events.streams import CATALOGUE, provision, stream_name
from alongside.kit.nats import tls_failure

T = TypeVar("T")

app = typer.Typer(help="JetStream streams, for operators.", no_args_is_help=True)


def _where(url: str) -> str:
    """The servers of ``url`` without the user and password it may carry."""
    return ",".join(f"{p.hostname}:{p.port or 4222}" for p in map(urlsplit, url.split(",")))


async def _quiet(_: Exception) -> None:
    """nats-py's own error report (a traceback per failed attempt); the CLI says it once."""


async def _connect(url: str, tls: BrokerTls, timeout_s: float) -> Client:
    try:
        secure = nats_options(url, tls)
    except TlsConfigError as exc:
        raise CliError(str(exc), ExitCode.BAD_INPUT) from None
    try:
        # nats-py keeps retrying a refused first connection, so the deadline is ours.
        async with asyncio.timeout(timeout_s):
            return await nats.connect(servers=url.split(","), allow_reconnect=False, error_cb=_quiet, **secure)
    except ssl.SSLError as exc:
        raise CliError(f"at {_where(url)}: {tls_failure(exc)}", ExitCode.UNREACHABLE) from None
    except (NatsError, OSError, TimeoutError) as exc:
        raise CliError(f"cannot reach NATS at {_where(url)} ({type(exc).__name__})", ExitCode.UNREACHABLE) from None


async def _provision(url: str, tls: BrokerTls, namespace: str, replicas: int, timeout_s: float) -> None:
    nc = await _connect(url, tls, timeout_s)
    try:
        await provision(nc.jetstream(timeout=timeout_s), namespace, replicas)
    except (NatsError, OSError) as exc:
        raise CliError(
            f"NATS refused to create or update the streams ({type(exc).__name__}): use an operator (admin) user",
            ExitCode.REFUSED,
        ) from None
    finally:
        await nc.close()


def _check_namespace(namespace: str) -> None:
    if not namespace or not namespace.replace("_", "").replace("-", "").isalnum():
        raise CliError("--namespace may hold only letters, digits, '-' and '_'", ExitCode.BAD_INPUT)


@app.command("provision")
@handled
def provision_command(
    ctx: typer.Context,
    replicas: Annotated[int, typer.Option(help="copies of each stream (3 on a three-server cluster)")] = 1,
    namespace: Annotated[str, typer.Option(envvar="NAMESPACE", help="the services' NAMESPACE")] = "alongside",
) -> None:
    """Create or update every stream of the catalogue (NATS_URL says where, and as whom)."""
    s = session(ctx)
    if not 1 <= replicas <= 5:
        raise CliError("--replicas must be between 1 and 5", ExitCode.BAD_INPUT)
    _check_namespace(namespace)
    asyncio.run(_provision(s.config.nats_url, s.config.nats_tls, namespace, replicas, s.config.timeout_s))
    names = [stream_name(namespace, spec) for spec in CATALOGUE]
    if s.out.json:
        s.out.emit({"streams": names, "replicas": replicas})
    else:
        s.out.table("Streams provisioned", ("stream", "replicas"), [(name, str(replicas)) for name in names])


async def _each(
    url: str, tls: BrokerTls, timeout_s: float, names: list[str], step: Callable[[Client, str], Awaitable[T]]
) -> list[T]:
    """``step`` for each of ``names`` in turn, on one connection; the first failure stops."""
    nc = await _connect(url, tls, timeout_s)
    done: list[T] = []
    try:
        for name in names:
            try:
                done.append(await step(nc, name))
            except SnapshotError as exc:
                raise CliError(f"{name}: {exc}", ExitCode.REFUSED) from None
            except (NatsError, OSError) as exc:
                raise CliError(
                    f"{name}: NATS did not complete it ({type(exc).__name__}): use an operator (admin) user",
                    ExitCode.REFUSED,
                ) from None
    finally:
        await nc.close()
    return done


def _report(out: Output, title: str, copies: list[Copied]) -> None:
    rows = [(c.stream, str(c.messages), f"{c.first_seq}-{c.last_seq}", str(c.bytes)) for c in copies]
    if out.json:
        out.emit({"streams": [dataclasses.asdict(c) for c in copies]})
    else:
        out.table(title, ("stream", "messages", "sequences", "bytes"), rows)


@app.command("backup")
@handled
def backup_command(
    ctx: typer.Context,
    to: Annotated[Path, typer.Option("--to", help="folder to write into: one sub-folder per stream")],
    stream: Annotated[
        list[str] | None, typer.Option("--stream", help="a stream's full name (repeatable); default: every stream")
    ] = None,
    namespace: Annotated[str, typer.Option(envvar="NAMESPACE", help="the services' NAMESPACE")] = "alongside",
) -> None:
    """Snapshot streams, with their durables, into a folder while everything keeps running (NATS_URL, as admin)."""
    s = session(ctx)
    _check_namespace(namespace)
    names = stream or [stream_name(namespace, spec) for spec in CATALOGUE]
    if to.exists() and not to.is_dir():
        raise CliError(f"--to {to}: not a folder", ExitCode.BAD_INPUT)
    taken = [n for n in names if (to / n / META_FILE).exists()]
    if taken:
        raise CliError(f"--to {to}: already holds a backup of {', '.join(taken)}; use a new folder", ExitCode.BAD_INPUT)

    async def one(nc: Client, name: str) -> Copied:
        return await backup(nc, name, to / name, s.config.timeout_s)

    _report(
        s.out,
        "Streams backed up",
        asyncio.run(_each(s.config.nats_url, s.config.nats_tls, s.config.timeout_s, names, one)),
    )


@app.command("restore")
@handled
def restore_command(
    ctx: typer.Context,
    source: Annotated[Path, typer.Option("--from", help="a folder `streams backup` wrote")],
    stream: Annotated[
        list[str] | None, typer.Option("--stream", help="a stream's full name (repeatable); default: all in the folder")
    ] = None,
    replicas: Annotated[
        int | None, typer.Option(help="copies of each stream; default: as backed up (3 on a three-server cluster)")
    ] = None,
) -> None:
    """Recreate streams from a backup on a server that does not have them yet (NATS_URL, as admin)."""
    s = session(ctx)
    if replicas is not None and not 1 <= replicas <= 5:
        raise CliError("--replicas must be between 1 and 5", ExitCode.BAD_INPUT)
    found = sorted(p.parent.name for p in source.glob(f"*/{META_FILE}")) if source.is_dir() else []
    if not found:
        raise CliError(f"--from {source}: holds no stream backup (no */{META_FILE})", ExitCode.BAD_INPUT)
    names = stream or found
    missing = [n for n in names if n not in found]
    if missing:
        raise CliError(f"--from {source}: holds no backup of {', '.join(missing)}", ExitCode.BAD_INPUT)

    async def one(nc: Client, name: str) -> Copied:
        return await restore(nc, source / name, replicas, s.config.timeout_s)

    _report(
        s.out,
        "Streams restored",
        asyncio.run(_each(s.config.nats_url, s.config.nats_tls, s.config.timeout_s, names, one)),
    )
