"""``alongside valkey provision``: load the project's Valkey functions.

For operators. The services' Valkey users may call the project's functions
(FCALL) but not load code of their own (deploy/valkey/users.acl), so run it
once with an admin login in ``REDIS_URL`` before the services start, and
again after an upgrade (a service stops, naming the library, if the loaded
one is missing or from other code). Safe to run any number of times: a
library already loaded at this version is left alone.
"""

from __future__ import annotations

import asyncio
from typing import Annotated
from urllib.parse import urlsplit

import typer
from redis.exceptions import AuthenticationError, NoPermissionError, RedisError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from alongside.cli.errors import CliError, ExitCode, handled
from alongside.cli.state import session
from alongside.kit.broker_tls import BrokerTls, TlsConfigError
from alongside.kit.durable import connect
from alongside.kit.functions import Library, provision
from alongside.kit.libraries import catalogue

app = typer.Typer(help="Valkey functions, for operators.", no_args_is_help=True)


def _where(url: str) -> str:
    """Host and port of ``url`` without the user and password it may carry."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or 6379}"


async def _provision(url: str, tls: BrokerTls, libraries: tuple[Library, ...], timeout_s: float) -> set[str]:
    try:  # a server or Sentinels
        r = connect(url, tls=tls, socket_connect_timeout=timeout_s, socket_timeout=timeout_s)
    except TlsConfigError as exc:
        raise CliError(str(exc), ExitCode.BAD_INPUT) from None
    try:
        return {state.library.name for state in await provision(r, libraries)}
    except AuthenticationError:
        raise CliError(f"Valkey at {_where(url)} refused the login in REDIS_URL", ExitCode.REFUSED) from None
    except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
        raise CliError(f"cannot reach Valkey at {_where(url)} ({type(exc).__name__})", ExitCode.UNREACHABLE) from None
    except NoPermissionError:
        raise CliError(
            "Valkey refused to load the functions for this user: use an operator (admin) login in REDIS_URL",
            ExitCode.REFUSED,
        ) from None
    except RedisError as exc:
        raise CliError(f"Valkey refused the functions ({type(exc).__name__})", ExitCode.REFUSED) from None
    finally:
        await r.aclose()


@app.command("provision")
@handled
def provision_command(
    ctx: typer.Context,
    show: Annotated[bool, typer.Option("--show", help="print the libraries' Lua instead of loading them")] = False,
) -> None:
    """Load or replace every function library whose loaded version differs (REDIS_URL says where, and as whom)."""
    s = session(ctx)
    libraries = catalogue()
    if show:
        typer.echo("\n".join(library.source for library in libraries))
        return
    loaded = asyncio.run(_provision(s.config.redis_url, s.config.redis_tls, libraries, s.config.timeout_s))
    rows = [(lib.name, lib.version, "loaded" if lib.name in loaded else "already loaded") for lib in libraries]
    if s.out.json:
        s.out.emit({"libraries": [{"name": n, "version": v, "outcome": o.replace(" ", "_")} for n, v, o in rows]})
    else:
        s.out.table("Valkey functions", ("library", "version", "outcome"), rows)
