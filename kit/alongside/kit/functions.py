"""The project's Lua, as Valkey functions that an operator loads.

Services may not run code of their own choosing on the shared server: their
ACL users have ``FCALL`` and ``FCALL_RO`` but no ``EVAL``, ``EVALSHA``,
``SCRIPT`` or ``FUNCTION LOAD`` (deploy/valkey/users.acl). Every script the
project runs is a ``Function`` here, grouped into one ``Library`` per owner
(the kit's shared one, and one per service that has scripts of its own). An
operator loads them with ``alongside valkey provision`` (``FUNCTION LOAD
REPLACE`` as the admin); a service checks at start-up, with a cheap
``FCALL_RO`` of each library's version function, that the code it was built
with is the code loaded, and stops naming the libraries that are missing or
stale (or, with ``PROVISION_FUNCTIONS=true`` and a user that may, loads them).

A function's body is an ordinary script body that reads ``KEYS`` and
``ARGV``: the library wraps each one as ``function(KEYS, ARGV) ... end``.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoPermissionError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from alongside.kit import tracing
from alongside.kit.broker_tls import REDIS_PREFIX, does_not_verify, verify_failure
from alongside.kit.errors import Unavailable
from alongside.kit.logging import get_logger

log = get_logger(__name__)

PROVISION_HINT = "load them as an operator (alongside valkey provision)"


@dataclass(frozen=True)
class Function:
    """One registered function: ``name`` (unique on the server), a script
    ``body`` and Valkey's function ``flags`` (none: it may write, and is
    refused while the server is out of memory)."""

    name: str
    body: str
    flags: tuple[str, ...] = ()

    @classmethod
    def from_file(cls, name: str, package: str, script: str, flags: tuple[str, ...] = ()) -> Function:
        """The body from ``<package>/<script>.lua``."""
        return cls(name, (resources.files(package) / f"{script}.lua").read_text(), flags)

    def registration(self) -> str:
        flags = f", flags={{{', '.join(repr(f) for f in self.flags)}}}" if self.flags else ""
        body = self.body.strip("\n")
        return (
            f"redis.register_function{{function_name='{self.name}'{flags}, callback=function(KEYS, ARGV)\n"
            f"{body}\nend}}\n"
        )


@dataclass(frozen=True)
class Library:
    name: str
    functions: tuple[Function, ...]

    @property
    def version_function(self) -> str:
        return f"{self.name}_version"

    @property
    def version(self) -> str:
        """A hash of the code: a service notices a library loaded from other code."""
        code = "".join(f.registration() for f in self.functions)
        return hashlib.sha256(f"{self.name}\n{code}".encode()).hexdigest()[:16]

    @property
    def source(self) -> str:
        """What ``FUNCTION LOAD`` receives."""
        version = Function(self.version_function, f"return '{self.version}'", ("no-writes",))
        header = [
            f"#!lua name={self.name}",
            f"-- Alongside's, loaded by `alongside valkey provision`. Version {self.version}.",
            "",
        ]
        return "\n".join([*header, *(f.registration() for f in (*self.functions, version))])


@dataclass(frozen=True)
class Loaded:
    """What the server holds for a library: its version, or None if absent."""

    library: Library
    version: str | None

    @property
    def current(self) -> bool:
        return self.version == self.library.version

    def describe(self) -> str:
        if self.version is None:
            return f"{self.library.name} (missing)"
        return f"{self.library.name} (version {self.version}, this build needs {self.library.version})"


class MissingFunctions(Exception):
    """Libraries this process needs that the server lacks or holds in another version."""

    def __init__(self, stale: Sequence[Loaded], *, refused: bool = False) -> None:
        what = ", ".join(s.describe() for s in stale)
        todo = (
            f"this user may not load them: {PROVISION_HINT}"
            if refused
            else (f"{PROVISION_HINT} or start with PROVISION_FUNCTIONS=true")
        )
        super().__init__(f"Valkey function libraries missing or stale: {what}; {todo}")
        self.names = [s.library.name for s in stale]


class FunctionMissing(Unavailable):
    """A function a call needs is not loaded (someone flushed or deleted it)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"a Valkey function this service needs is not loaded; {PROVISION_HINT}")
        self.name = name


def is_missing(error: BaseException) -> bool:
    return isinstance(error, ResponseError) and "function not found" in str(error).lower()


def missing(name: str, error: BaseException) -> BaseException:
    """``error`` as the caller should see it: ``FunctionMissing`` if the server
    does not know ``name``, else unchanged."""
    if not is_missing(error):
        return error
    log.error("valkey.function_missing", function=name)
    return FunctionMissing(name)


async def fcall(r: aioredis.Redis, name: str, keys: Sequence[Any], args: Sequence[Any]) -> Any:
    """``FCALL name``: one call of a loaded function (one span with tracing on)."""
    with tracing.valkey(name):
        try:
            return await r.execute_command("FCALL", name, len(keys), *keys, *args)
        except ResponseError as exc:
            raise missing(name, exc) from None


async def loaded(r: aioredis.Redis, library: Library) -> Loaded:
    """The version of ``library`` the server holds, by ``FCALL_RO`` of its version function."""
    try:
        version = await r.execute_command("FCALL_RO", library.version_function, 0)
    except ResponseError as exc:
        if is_missing(exc):
            return Loaded(library, None)
        raise
    return Loaded(library, version.decode() if isinstance(version, bytes) else str(version))


async def stale(r: aioredis.Redis, libraries: Iterable[Library]) -> list[Loaded]:
    """The libraries missing from the server, or loaded from other code."""
    return [state for state in [await loaded(r, lib) for lib in libraries] if not state.current]


async def provision(r: aioredis.Redis, libraries: Iterable[Library]) -> list[Loaded]:
    """Load or replace each library whose loaded version differs (``r`` must
    be an operator's login). Returns what was loaded, and what was there."""
    changed = await stale(r, libraries)
    for state in changed:
        await r.execute_command("FUNCTION", "LOAD", "REPLACE", state.library.source)
    return changed


async def require(
    r: aioredis.Redis, libraries: Iterable[Library], *, may_provision: bool, startup_timeout_s: float = 30.0
) -> None:
    """Raise ``MissingFunctions`` unless every library is loaded at this
    build's version; with ``may_provision``, load those that are not.
    Waits up to ``startup_timeout_s`` for Valkey to answer (it may start
    after the service), then raises ``ConnectionError``; at once when its TLS
    certificate does not verify."""
    libraries = list(libraries)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + startup_timeout_s
    while True:
        try:
            changed = await stale(r, libraries)
            break
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            if failed := verify_failure(exc):  # no retry will mend it
                raise ConnectionError(does_not_verify("Valkey", REDIS_PREFIX, "REDIS_URL", failed)) from exc
            if loop.time() >= deadline:
                raise ConnectionError(f"cannot reach Valkey at start-up ({type(exc).__name__})") from exc
            await asyncio.sleep(0.5)
    if not changed:
        return
    if not may_provision:
        raise MissingFunctions(changed)
    try:
        await provision(r, [state.library for state in changed])
    except NoPermissionError:
        raise MissingFunctions(changed, refused=True) from None
    log.info("valkey.functions_loaded", libraries=[state.library.name for state in changed])
