"""The bearer token the CLI sends with every call, and where it came from.

``ALONGSIDE_TOKEN`` wins. For development only, with no token set, the CLI
mints a short-lived one from an HS256 secret for the role in
``ALONGSIDE_ROLE`` (default admin) and subject ``ALONGSIDE_SUBJECT``: the
secret in ``AUTH_HS256_SECRET``, or the ``dev-auth-secret`` of the stack the
CLI found (``alongside.cli.discovery``). A token minted from a stack's secret
goes only to that stack's services: it is minted only while the stack runs
(its ``endpoints.json`` is there), and the CLI checks each service's stack
id before sending it (``Service.check_stack``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from alongside.cli.discovery import Found
from alongside.cli.errors import CliError, ExitCode
from alongside.kit.auth.tokens import Minter, check_role, check_subject

ISSUER = AUDIENCE = "alongside"
DEV_TTL_S = 3600


@dataclass(frozen=True)
class Credentials:
    token: str = ""
    # The stack id every service must answer to before it gets the token ("" = no check).
    stack_id: str = ""
    # Without a token: why not, and where the CLI looked.
    problem: str = ""


def dev_secret(source: Mapping[str, str], found: Found) -> str:
    """``AUTH_HS256_SECRET``, else the found stack's secret (running or not)."""
    if source.get("AUTH_HS256_SECRET"):
        return source["AUTH_HS256_SECRET"]
    return found.stack.secret if found.stack is not None else ""


def _mint(source: Mapping[str, str], secret: str) -> str:
    subject, role = source.get("ALONGSIDE_SUBJECT", "cli"), source.get("ALONGSIDE_ROLE", "admin")
    for variable, check, value in (("ALONGSIDE_ROLE", check_role, role), ("ALONGSIDE_SUBJECT", check_subject, subject)):
        try:
            check(value)
        except ValueError as exc:
            raise CliError(f"{variable}: {exc}; fix or unset it", ExitCode.BAD_INPUT) from None
    minter = Minter(secret, "HS256", source.get("AUTH_ISSUER", ISSUER), source.get("AUTH_AUDIENCE", AUDIENCE))
    return minter.mint(subject, role, DEV_TTL_S)


def credentials_from(source: Mapping[str, str], found: Found) -> Credentials:
    if source.get("ALONGSIDE_TOKEN"):
        return Credentials(source["ALONGSIDE_TOKEN"])
    if source.get("AUTH_HS256_SECRET"):
        return Credentials(_mint(source, source["AUTH_HS256_SECRET"]))
    stack = found.stack
    if stack is not None and stack.secret and stack.running and stack.stack_id:
        return Credentials(_mint(source, stack.secret), stack_id=stack.stack_id)
    if stack is not None and stack.secret:
        problem = (
            f"the stack in {stack.data_dir} is not running (no {stack.data_dir / 'endpoints.json'}), so the CLI"
            " does not use its development secret: start it with `make run`, or set ALONGSIDE_TOKEN"
        )
    else:
        problem = (
            "the CLI found no token: ALONGSIDE_TOKEN and AUTH_HS256_SECRET are not set, and no `make run` data"
            f" folder was found (looked in: {'; '.join(found.looked)}) — run `alongside login DATA_FOLDER` once"
            " (DATA_FOLDER is the var/ of your `make run`), or set ALONGSIDE_TOKEN"
        )
    return Credentials(problem=problem)
