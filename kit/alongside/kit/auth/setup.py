"""Build the verifier, a service's own token minter and its audit signer from settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alongside.kit.auth.jwks import JwksIssuer
from alongside.kit.auth.signing import SignatureCheck, Signer
from alongside.kit.auth.tokens import Key, Minter, Verifier, key_from_pem
from alongside.kit.settings import ConfigError, Settings

SERVICE_TOKEN_TTL_S = 3600


def verification_keys(settings: Settings) -> list[Key]:
    keys: list[Key] = []
    for path in settings.auth_public_keys:
        try:
            keys.append(key_from_pem(Path(path).read_bytes()))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"AUTH_PUBLIC_KEYS: cannot load {path} ({type(exc).__name__})") from None
    if settings.auth_hs256_secret:
        keys.append(Key("HS256", settings.auth_hs256_secret))
    return keys


def verifier(settings: Settings) -> Verifier:
    keys = verification_keys(settings)
    return Verifier(keys, settings.auth_issuer, settings.auth_audience, external=external_issuer(settings))


def external_issuer(settings: Settings) -> JwksIssuer | None:
    """The OpenID provider whose JWKS keys also verify tokens, if configured."""
    if not settings.auth_oidc_issuer:
        return None
    return JwksIssuer(
        settings.auth_oidc_issuer,
        settings.auth_oidc_audience or settings.auth_audience,
        jwks_url=settings.auth_jwks_url,
        role_claim=settings.auth_role_claim,
        min_refresh_s=settings.auth_jwks_refresh_seconds,
    )


def signature_check(settings: Settings) -> SignatureCheck:
    return SignatureCheck(verification_keys(settings))


def _private_key(settings: Settings) -> Any:
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        return load_pem_private_key(Path(settings.auth_private_key).read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"AUTH_PRIVATE_KEY: cannot load it ({type(exc).__name__})") from None


def service_minter(settings: Settings) -> Minter | None:
    """Signs this service's own ``service:<name>`` tokens, if it holds a key."""
    if settings.auth_private_key:
        from cryptography.hazmat.primitives.asymmetric import ed25519

        private = _private_key(settings)
        algorithm = "EdDSA" if isinstance(private, ed25519.Ed25519PrivateKey) else "RS256"
        return Minter(private, algorithm, settings.auth_issuer, settings.auth_audience)
    if settings.auth_hs256_secret:
        return Minter(settings.auth_hs256_secret, "HS256", settings.auth_issuer, settings.auth_audience)
    return None


def audit_signer(settings: Settings) -> Signer | None:
    """Signs this service's audit records with the key that signs its tokens."""
    if settings.auth_private_key:
        try:
            return Signer(_private_key(settings))
        except ValueError:
            raise ConfigError("AUTH_PRIVATE_KEY must be an Ed25519 or RSA key") from None
    if settings.auth_hs256_secret:
        return Signer(settings.auth_hs256_secret)
    return None
