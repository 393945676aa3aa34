"""Signed bearer tokens: verification, and minting for development and
service-to-service calls.

A token is a JWT with ``iss``, ``aud``, ``sub``, ``exp`` and ``role``. It
always names someone: a ``sub`` that is empty or only whitespace is refused
when minting and when verifying, for every role. Keys
are Ed25519 or RS256 public keys (production) or an HS256 secret
(development), plus, optionally, the programme's OpenID provider's keys from
its JWKS (``alongside.kit.auth.jwks``). The accepted algorithm is fixed by the key, never taken from
the token, so ``alg=none`` and algorithm-confusion tokens are refused.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import jwt

from alongside.kit.errors import Unauthenticated

if TYPE_CHECKING:
    from alongside.kit.auth.jwks import JwksIssuer

ROLES = ("intake", "manager", "peer", "admin")
SERVICE_PREFIX = "service:"
CLOCK_SKEW_S = 30
# Verified tokens are remembered until they expire, so a client's every call
# does not pay for a signature check: a bounded map, oldest entry out first.
CACHE_SIZE = 4096
# What an outside issuer's JWKS keys may sign with (each key's type fixes one).
EXTERNAL_ALGORITHMS = frozenset({"RS256", "ES256", "EdDSA"})


@dataclass(frozen=True)
class Identity:
    subject: str
    role: str

    @property
    def service(self) -> str | None:
        return self.role.removeprefix(SERVICE_PREFIX) if self.role.startswith(SERVICE_PREFIX) else None


@dataclass(frozen=True)
class Key:
    algorithm: str  # "EdDSA", "RS256" or "HS256"
    material: Any  # a public key object, PEM bytes, or the HS256 secret


def key_from_pem(pem: bytes) -> Key:
    """A verification key from a PEM public key (Ed25519 or RSA)."""
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    public = load_pem_public_key(pem)
    if isinstance(public, ed25519.Ed25519PublicKey):
        return Key("EdDSA", public)
    if isinstance(public, rsa.RSAPublicKey):
        return Key("RS256", public)
    raise ValueError("only Ed25519 and RSA public keys are supported")


def check_role(role: str) -> None:
    if role not in ROLES and not (role.startswith(SERVICE_PREFIX) and len(role) > len(SERVICE_PREFIX)):
        raise ValueError(f"unknown role {role!r}: use one of {', '.join(ROLES)} or service:<name>")


def check_subject(subject: object) -> str:
    """The token's subject: a string with something in it besides whitespace."""
    if not isinstance(subject, str) or not subject.strip():
        raise ValueError("the subject is required: a token must name someone (a staff id, a peer id)")
    return subject


class UnknownKey(Unauthenticated):
    """The token names a key the outside issuer has not published to us yet."""


class Verifier:
    """Checks tokens signed by Alongside's own keys (``keys``, for ``issuer``
    and ``audience``) and, given ``external``, by an OpenID provider's JWKS
    keys (for that provider's issuer and audience)."""

    def __init__(
        self,
        keys: list[Key],
        issuer: str,
        audience: str,
        leeway_s: float = CLOCK_SKEW_S,
        external: JwksIssuer | None = None,
    ) -> None:
        if not keys and external is None:
            raise ValueError("at least one verification key is needed")
        self._keys, self._issuer, self._audience = keys, issuer, audience
        self._leeway = leeway_s
        self._external = external
        self._verified: dict[str, tuple[Identity, float]] = {}

    def verify(self, token: str) -> Identity:
        """The identity a valid token carries; ``Unauthenticated`` otherwise.

        A token that verified once is trusted again until its ``exp`` (plus
        the clock-skew leeway), exactly as long as a fresh check would accept
        it. Failures are not remembered. This never waits for the network:
        a token from a key the provider has not published to us yet raises
        ``UnknownKey`` (``verify_async`` fetches the keys again).
        """
        known = self._remembered(token)
        return known if known is not None else self._remember(token, *self._check(token))

    async def verify_async(self, token: str) -> Identity:
        """As ``verify``; on an unknown key id, fetch the provider's keys again
        (rate limited, short timeout) and check once more."""
        known = self._remembered(token)
        if known is not None:
            return known
        external = self._external
        if external is not None and external.stale():
            external.refresh_soon()
        try:
            checked = self._check(token)
        except UnknownKey:
            if external is None or not await external.refresh():
                raise
            checked = self._check(token)
        return self._remember(token, *checked)

    def _remembered(self, token: str) -> Identity | None:
        known = self._verified.get(token)
        if known is not None:
            if time.time() <= known[1] + self._leeway:
                return known[0]
            del self._verified[token]
        return None

    def _remember(self, token: str, identity: Identity, expires: float) -> Identity:
        if len(self._verified) >= CACHE_SIZE:
            del self._verified[next(iter(self._verified))]
        self._verified[token] = (identity, expires)
        return identity

    def _check(self, token: str) -> tuple[Identity, float]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthenticated("the bearer token is malformed") from None
        alg, kid = header.get("alg"), header.get("kid")
        kid = kid if isinstance(kid, str) else None
        candidates: list[tuple[Key, JwksIssuer | None]] = [(k, None) for k in self._keys if k.algorithm == alg]
        external = self._external
        unknown = False
        if external is not None:
            candidates += [(k, external) for k in external.keys_for(kid) if k.algorithm == alg]
            unknown = alg in EXTERNAL_ALGORITHMS and not external.knows(kid)
        if not candidates:
            if unknown:
                raise UnknownKey("the token's signing key is not known")
            raise Unauthenticated("the token's signing algorithm is not accepted")
        for key, issuer in candidates:
            try:
                claims = jwt.decode(
                    token,
                    key.material,
                    algorithms=[key.algorithm],
                    audience=self._audience if issuer is None else issuer.audience,
                    issuer=self._issuer if issuer is None else issuer.issuer,
                    leeway=self._leeway,
                    options={"require": ["exp", "iss", "aud", "sub", *(["role"] if issuer is None else [])]},
                )
            except jwt.ExpiredSignatureError:
                raise Unauthenticated("the token has expired; get a new one") from None
            except (jwt.InvalidAudienceError, jwt.InvalidIssuerError):
                raise Unauthenticated("the token was issued for another audience or issuer") from None
            except jwt.InvalidSignatureError:
                continue
            except jwt.PyJWTError:
                raise Unauthenticated("the token is invalid") from None
            return _identity(claims, issuer), float(claims["exp"])
        if unknown:
            raise UnknownKey("the token's signing key is not known")
        raise Unauthenticated("the token's signature does not verify")


def _identity(claims: dict[str, Any], external: JwksIssuer | None) -> Identity:
    try:
        subject = check_subject(claims["sub"])
    except ValueError:
        raise Unauthenticated("the token names no subject: an empty subject is no one") from None
    if external is not None:
        return Identity(subject, external.role(claims))
    role = str(claims["role"])
    try:
        check_role(role)
    except ValueError:
        raise Unauthenticated("the token carries an unknown role") from None
    return Identity(subject, role)


class Minter:
    """Signs tokens: with the HS256 development secret, or a private key."""

    def __init__(self, key: Any, algorithm: str, issuer: str, audience: str) -> None:
        self._key, self._alg, self._issuer, self._audience = key, algorithm, issuer, audience

    def mint(self, subject: str, role: str, ttl_s: int = 3600) -> str:
        """A signed token; ``ValueError`` for an unknown role or a blank subject."""
        check_role(role)
        check_subject(subject)
        now = int(time.time())
        claims = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": subject,
            "role": role,
            "iat": now,
            "exp": now + ttl_s,
        }
        return jwt.encode(claims, self._key, algorithm=self._alg)
