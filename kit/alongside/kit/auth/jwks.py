"""Tokens from the programme's OpenID provider, checked by its published keys.

The provider publishes its public keys as a JWKS, at ``AUTH_JWKS_URL`` or at
the ``jwks_uri`` its discovery document names. The keys are fetched over
HTTPS (plain http only on loopback) with a short timeout, kept in memory, and
fetched again when a token names a key id not seen yet (at most once per
``min_refresh_s``, so a stream of made-up key ids cannot flood the provider)
or when they are older than ``max_age_s``. A failed fetch keeps the keys
already held: an outage of the provider does not lock everyone out.

Each key's algorithm is fixed by its type (RSA: RS256, EC P-256: ES256,
Ed25519: EdDSA), never by the token; symmetric and other keys are ignored.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Mapping
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from alongside.kit.auth.tokens import ROLES, Key
from alongside.kit.errors import Unauthenticated
from alongside.kit.logging import get_logger
from alongside.kit.settings import check_fetch_url

log = get_logger(__name__)

MIN_RSA_BITS = 2048
MAX_DOCUMENT_BYTES = 256 * 1024
DISCOVERY_PATH = "/.well-known/openid-configuration"


def _fixed_algorithm(jwk: Mapping[str, Any]) -> str | None:
    kty, crv = jwk.get("kty"), jwk.get("crv")
    if kty == "RSA":
        return "RS256"
    if kty == "EC" and crv == "P-256":
        return "ES256"
    if kty == "OKP" and crv == "Ed25519":
        return "EdDSA"
    return None


def parse_jwks(document: Any) -> tuple[tuple[str | None, Key], ...]:
    """The usable signing keys of a JWKS document, with their key ids.

    A key is skipped when it is for encryption, of another type or curve,
    declares another algorithm than its type's, or is an RSA key under 2048
    bits. Private parts, if a provider ever published them, are dropped.
    """
    entries = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise ValueError("a JWKS document needs a 'keys' list")
    keys: list[tuple[str | None, Key]] = []
    for jwk in entries:
        if not isinstance(jwk, dict) or jwk.get("use", "sig") != "sig":
            continue
        algorithm = _fixed_algorithm(jwk)
        if algorithm is None or jwk.get("alg", algorithm) != algorithm:
            continue
        try:
            material = jwt.PyJWK(jwk, algorithm=algorithm).key
        except jwt.PyJWTError:
            continue
        if isinstance(material, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
            material = material.public_key()
        if isinstance(material, rsa.RSAPublicKey) and material.key_size < MIN_RSA_BITS:
            continue
        kid = jwk.get("kid")
        keys.append((kid if isinstance(kid, str) else None, Key(algorithm, material)))
    return tuple(keys)


class JwksIssuer:
    """An issuer outside Alongside whose tokens carry ``role_claim``."""

    def __init__(
        self,
        issuer: str,
        audience: str,
        *,
        jwks_url: str = "",
        role_claim: str = "role",
        timeout_s: float = 3.0,
        min_refresh_s: float = 10.0,
        max_age_s: float = 600.0,
    ) -> None:
        self.issuer, self.audience, self.role_claim = issuer, audience, role_claim
        self._jwks_url = jwks_url  # empty: found by discovery on the first fetch
        self._timeout, self._min_refresh, self._max_age = timeout_s, min_refresh_s, max_age_s
        self._keys: tuple[tuple[str | None, Key], ...] = ()
        self._fetched_at = self._tried_at = -math.inf
        self._inflight: asyncio.Task[bool] | None = None

    def keys_for(self, kid: str | None) -> list[Key]:
        """Keys with this id; every key for a token that names none."""
        return [key for key_id, key in self._keys if kid is None or key_id == kid]

    def knows(self, kid: str | None) -> bool:
        return bool(self.keys_for(kid))

    def stale(self) -> bool:
        return time.monotonic() - self._fetched_at > self._max_age

    def role(self, claims: Mapping[str, Any]) -> str:
        """The one Alongside role in the role claim (a string or a list).

        The claim is looked up by its full name first (namespaced claims hold
        dots), then as a dotted path (``realm_access.roles``). Service roles
        are never taken from an outside issuer.
        """
        value: Any = claims.get(self.role_claim)
        if value is None:
            value = claims
            for part in self.role_claim.split("."):
                value = value.get(part) if isinstance(value, dict) else None
        values = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        roles = {v for v in values if isinstance(v, str) and v in ROLES}
        if len(roles) != 1:
            raise Unauthenticated("the token must carry exactly one Alongside role")
        return roles.pop()

    async def refresh(self) -> bool:
        """Fetch the keys again unless one was tried within ``min_refresh_s``.

        Concurrent callers share one fetch. True when it brought keys.
        """
        task = self._start()
        return False if task is None else await asyncio.shield(task)

    def refresh_soon(self) -> None:
        """Start a background refresh (rate limited) if an event loop runs."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return
        self._start()

    def _start(self) -> asyncio.Task[bool] | None:
        loop = asyncio.get_running_loop()
        task = self._inflight
        if task is not None and not task.done() and task.get_loop() is loop:
            return task
        now = time.monotonic()
        if now - self._tried_at < self._min_refresh:
            return None
        self._tried_at = now
        self._inflight = loop.create_task(self._fetch())
        return self._inflight

    async def _fetch(self) -> bool:
        try:
            async with httpx.AsyncClient(timeout=self._timeout, follow_redirects=False) as client:
                if not self._jwks_url:
                    self._jwks_url = await self._discover(client)
                keys = parse_jwks(await _get_json(client, self._jwks_url))
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("auth.jwks_fetch_failed", issuer=self.issuer, error=type(exc).__name__)
            return False
        if not keys:
            log.warning("auth.jwks_without_usable_keys", issuer=self.issuer)
            return False
        self._keys, self._fetched_at = keys, time.monotonic()
        log.info("auth.jwks_loaded", issuer=self.issuer, keys=len(keys))
        return True

    async def _discover(self, client: httpx.AsyncClient) -> str:
        document = await _get_json(client, self.issuer.rstrip("/") + DISCOVERY_PATH)
        if not isinstance(document, dict) or document.get("issuer") != self.issuer:
            raise ValueError("the discovery document names another issuer")
        url = document.get("jwks_uri")
        if not isinstance(url, str):
            raise ValueError("the discovery document has no jwks_uri")
        check_fetch_url(url)
        return url


async def _get_json(client: httpx.AsyncClient, url: str) -> Any:
    """GET a JSON document, refusing one larger than ``MAX_DOCUMENT_BYTES``."""
    async with client.stream("GET", url, headers={"accept": "application/json"}) as response:
        response.raise_for_status()
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > MAX_DOCUMENT_BYTES:
                raise ValueError("the document is too large")
    return json.loads(body)
