"""``alongside token issue``: mint a development token.

With the HS256 secret (``AUTH_HS256_SECRET``, or the ``dev-auth-secret`` of
the stack the CLI finds: ``alongside.cli.discovery``), or
with ``--key`` an Ed25519/RSA private key in PEM for a deployment that
verifies with public keys. Prints the token, for ``ALONGSIDE_TOKEN``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from alongside.cli.credentials import AUDIENCE, ISSUER, dev_secret
from alongside.cli.errors import CliError, ExitCode, handled
from alongside.cli.state import session
from alongside.kit.auth.tokens import Minter, check_role, check_subject

app = typer.Typer(
    help="Development tokens (roles: intake, manager, peer, admin, service:<name>).", no_args_is_help=True
)


def _minter(ctx: typer.Context, key: Path | None) -> Minter:
    if key is not None:
        from cryptography.hazmat.primitives.asymmetric import ed25519
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        try:
            private = load_pem_private_key(key.read_bytes(), password=None)
        except (OSError, ValueError):
            message = f"cannot read a private key from {key}: give a PEM Ed25519 or RSA key"
            raise CliError(message, ExitCode.BAD_INPUT) from None
        algorithm = "EdDSA" if isinstance(private, ed25519.Ed25519PrivateKey) else "RS256"
        return Minter(private, algorithm, ISSUER, AUDIENCE)
    found = session(ctx).config.found
    secret = dev_secret(os.environ, found)
    if not secret:
        raise CliError(
            "no signing key: set AUTH_HS256_SECRET (development), run `make run` once and `alongside login`,"
            f" or pass --key PRIVATE.pem (looked in: {'; '.join(found.looked)})",
            ExitCode.BAD_INPUT,
        )
    return Minter(secret, "HS256", ISSUER, AUDIENCE)


@app.command("issue")
@handled
def issue(
    ctx: typer.Context,
    role: Annotated[str, typer.Option(help="intake, manager, peer, admin or service:<name>")],
    sub: Annotated[str, typer.Option(help="the subject: a staff id, or the peer id for role peer")],
    ttl: Annotated[int, typer.Option(help="seconds until it expires")] = 3600,
    key: Annotated[Path | None, typer.Option(help="PEM private key (otherwise the HS256 dev secret)")] = None,
) -> None:
    """Print a signed token; use it as ALONGSIDE_TOKEN."""
    if not 60 <= ttl <= 7 * 24 * 3600:
        raise CliError("--ttl must be between 60 seconds and 7 days", ExitCode.BAD_INPUT)
    for option, check, value in (("--role", check_role, role), ("--sub", check_subject, sub)):
        try:
            check(value)
        except ValueError as exc:
            raise CliError(f"{option}: {exc}", ExitCode.BAD_INPUT) from None
    typer.echo(_minter(ctx, key).mint(sub, role, ttl))
