"""The bearer token the CLI sends with every call.

``ALONGSIDE_TOKEN`` wins. For development only, with no token set, the CLI
mints a short-lived one from the HS256 secret (``AUTH_HS256_SECRET``, or the
``var/dev-auth-secret`` file that ``make run`` writes), for the role in
``ALONGSIDE_ROLE`` (default admin) and subject ``ALONGSIDE_SUBJECT``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from alongside.cli.errors import CliError, ExitCode
from alongside.kit.auth.tokens import Minter, check_role, check_subject

DEV_SECRET_FILE = Path("var/dev-auth-secret")
ISSUER = AUDIENCE = "alongside"
DEV_TTL_S = 3600


def dev_secret(source: Mapping[str, str]) -> str:
    secret = source.get("AUTH_HS256_SECRET", "")
    if not secret and DEV_SECRET_FILE.is_file():
        secret = DEV_SECRET_FILE.read_text().strip()
    return secret


def token_from(source: Mapping[str, str]) -> str:
    if source.get("ALONGSIDE_TOKEN"):
        return source["ALONGSIDE_TOKEN"]
    secret = dev_secret(source)
    if not secret:
        return ""
    subject, role = source.get("ALONGSIDE_SUBJECT", "cli"), source.get("ALONGSIDE_ROLE", "admin")
    for variable, check, value in (("ALONGSIDE_ROLE", check_role, role), ("ALONGSIDE_SUBJECT", check_subject, subject)):
        try:
            check(value)
        except ValueError as exc:
            raise CliError(f"{variable}: {exc}; fix or unset it", ExitCode.BAD_INPUT) from None
    minter = Minter(secret, "HS256", source.get("AUTH_ISSUER", ISSUER), source.get("AUTH_AUDIENCE", AUDIENCE))
    return minter.mint(subject, role, DEV_TTL_S)
