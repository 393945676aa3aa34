"""``alongside streams provision``: create or update the JetStream streams.

For operators. Where the broker lets services only check that the streams
exist (``PROVISION_STREAMS=false``, as in deploy/nats), run it once with an
admin NATS user in ``NATS_URL`` before the services start, and again after
an upgrade that changes the catalogue. Safe to run any number of times.
"""

from __future__ import annotations

import asyncio
from typing import Annotated
from urllib.parse import urlsplit

import nats
import typer
from nats.errors import Error as NatsError

from alongside.cli.errors import CliError, ExitCode, handled
from alongside.cli.state import session
from alongside.kit.events.streams import CATALOGUE, provision, stream_name

app = typer.Typer(help="JetStream streams, for operators.", no_args_is_help=True)


def _where(url: str) -> str:
    """The servers of ``url`` without the user and password it may carry."""
    return ",".join(f"{p.hostname}:{p.port or 4222}" for p in map(urlsplit, url.split(",")))


async def _quiet(_: Exception) -> None:
    """nats-py's own error report (a traceback per failed attempt); the CLI says it once."""


async def _provision(url: str, namespace: str, replicas: int, timeout_s: float) -> None:
    try:
        # nats-py keeps retrying a refused first connection, so the deadline is ours.
        async with asyncio.timeout(timeout_s):
            nc = await nats.connect(servers=url.split(","), allow_reconnect=False, error_cb=_quiet)
    except (NatsError, OSError, TimeoutError) as exc:
        raise CliError(f"cannot reach NATS at {_where(url)} ({type(exc).__name__})", ExitCode.UNREACHABLE) from None
    try:
        await provision(nc.jetstream(timeout=timeout_s), namespace, replicas)
    except (NatsError, OSError) as exc:
        raise CliError(
            f"NATS refused to create or update the streams ({type(exc).__name__}): use an operator (admin) user",
            ExitCode.REFUSED,
        ) from None
    finally:
        await nc.close()


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
    if not namespace or not namespace.replace("_", "").replace("-", "").isalnum():
        raise CliError("--namespace may hold only letters, digits, '-' and '_'", ExitCode.BAD_INPUT)
    asyncio.run(_provision(s.config.nats_url, namespace, replicas, s.config.timeout_s))
    names = [stream_name(namespace, spec) for spec in CATALOGUE]
    if s.out.json:
        s.out.emit({"streams": names, "replicas": replicas})
    else:
        s.out.table("Streams provisioned", ("stream", "replicas"), [(name, str(replicas)) for name in names])
