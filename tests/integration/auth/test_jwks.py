"""Tokens from an OpenID provider, verified by the keys its JWKS publishes.

The provider is a real HTTP server on a loopback port
(``alongside.kit.testing.oidc_provider``) holding RSA and Ed25519 keys made
here; nothing is mocked.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from alongside.kit.auth import setup as auth_setup
from alongside.kit.auth.jwks import JwksIssuer, parse_jwks
from alongside.kit.auth.tokens import Identity, Key, Minter, UnknownKey, Verifier
from alongside.kit.errors import Unauthenticated
from alongside.kit.settings import ConfigError, Settings
from alongside.kit.testing.oidc_provider import OidcProvider, SigningKey

SECRET = "a-development-secret-of-at-least-32-chars"


def verifier_for(provider: OidcProvider, **options: Any) -> Verifier:
    """Alongside's own HS256 key, plus the provider's JWKS found by discovery."""
    options = {"min_refresh_s": 0.0, **options}
    external = JwksIssuer(provider.issuer, provider.audience, **options)
    return Verifier([Key("HS256", SECRET)], "alongside", "alongside", external=external)


async def test_rsa_and_ed25519_keys_verify_through_discovery(oidc_provider: OidcProvider) -> None:
    ed = oidc_provider.add_key(ed25519.Ed25519PrivateKey.generate())
    es = oidc_provider.add_key(ec.generate_private_key(ec.SECP256R1()))
    rs = oidc_provider.keys[0]
    verifier = verifier_for(oidc_provider)
    for key, subject in ((rs, "m-rsa"), (ed, "m-ed"), (es, "m-es")):
        token = oidc_provider.mint({"sub": subject, "role": "manager"}, key=key)
        assert await verifier.verify_async(token) == Identity(subject, "manager")
    assert oidc_provider.hits["/.well-known/openid-configuration"] == 1
    assert oidc_provider.hits["/jwks"] == 1  # fetched once, then held
    # Alongside's own tokens still verify beside the provider's.
    own = Minter(SECRET, "HS256", "alongside", "alongside").mint("svc", "service:matcher")
    assert (await verifier.verify_async(own)).service == "matcher"


async def test_settings_build_the_verifier_with_an_explicit_jwks_url(oidc_provider: OidcProvider) -> None:
    settings = Settings.from_env(
        {
            "SERVICE_NAME": "x",
            "AUTH_HS256_SECRET": SECRET,
            "AUTH_OIDC_ISSUER": oidc_provider.issuer,
            "AUTH_JWKS_URL": oidc_provider.issuer + "/jwks",
            "AUTH_ROLE_CLAIM": "realm_access.roles",
        }
    )
    verifier = auth_setup.verifier(settings)
    token = oidc_provider.mint({"sub": "p-1", "realm_access": {"roles": ["offline_access", "peer"]}})
    assert await verifier.verify_async(token) == Identity("p-1", "peer")
    assert oidc_provider.hits["/.well-known/openid-configuration"] == 0


async def test_a_rotated_key_is_picked_up_by_its_new_kid(oidc_provider: OidcProvider) -> None:
    verifier = verifier_for(oidc_provider)
    assert (await verifier.verify_async(oidc_provider.mint())).subject == "test-user"
    new = oidc_provider.add_key()
    oidc_provider.retire(oidc_provider.keys[0].kid)
    token = oidc_provider.mint({"sub": "after-rotation"}, key=new)
    assert (await verifier.verify_async(token)).subject == "after-rotation"
    assert oidc_provider.hits["/jwks"] == 2


async def test_sync_verify_never_fetches_and_async_fetches_on_unknown_kid(oidc_provider: OidcProvider) -> None:
    verifier = verifier_for(oidc_provider)
    token = oidc_provider.mint()
    with pytest.raises(UnknownKey):
        verifier.verify(token)
    assert oidc_provider.hits["/jwks"] == 0
    await verifier.verify_async(token)
    assert verifier.verify(token).role == "intake"


async def test_unknown_kids_are_refused_and_refetch_is_rate_limited(oidc_provider: OidcProvider) -> None:
    verifier = verifier_for(oidc_provider, min_refresh_s=60.0)
    await verifier.verify_async(oidc_provider.mint())
    stranger = SigningKey("k-not-published", rsa.generate_private_key(65537, 2048))
    for n in range(20):
        with pytest.raises(UnknownKey, match="signing key is not known"):
            await verifier.verify_async(oidc_provider.mint({"sub": f"s-{n}"}, key=stranger))
    assert oidc_provider.hits["/jwks"] == 1  # the made-up kids did not reach the provider


async def test_a_key_not_in_the_jwks_is_refused_even_under_a_published_kid(oidc_provider: OidcProvider) -> None:
    verifier = verifier_for(oidc_provider)
    published = oidc_provider.signing_key
    forger = SigningKey(published.kid, rsa.generate_private_key(65537, 2048))
    with pytest.raises(Unauthenticated, match="signature does not verify"):
        await verifier.verify_async(oidc_provider.mint({"role": "admin"}, key=forger))


@pytest.mark.parametrize(
    "claims",
    [{"iss": "https://idp.example.org"}, {"aud": "someone-else"}, {"aud": "alongside-console"}],
)
async def test_wrong_issuer_or_audience_is_refused(oidc_provider: OidcProvider, claims: dict[str, str]) -> None:
    verifier = verifier_for(oidc_provider)
    with pytest.raises(Unauthenticated, match="another audience or issuer"):
        await verifier.verify_async(oidc_provider.mint(claims))


@pytest.mark.parametrize("subject", ["", "   ", "\t\n"])
async def test_a_blank_subject_is_refused(oidc_provider: OidcProvider, subject: str) -> None:
    verifier = verifier_for(oidc_provider)
    with pytest.raises(Unauthenticated, match="subject"):
        await verifier.verify_async(oidc_provider.mint({"sub": subject}))


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"role": "service:matcher"}, "exactly one Alongside role"),  # services sign their own tokens
        ({"role": ["intake", "manager"]}, "exactly one Alongside role"),
        ({"role": "superuser"}, "exactly one Alongside role"),
        ({"role": None}, "exactly one Alongside role"),
        ({"exp": int(time.time()) - 3600}, "expired"),
    ],
)
async def test_bad_role_claims_and_expiry_are_refused(
    oidc_provider: OidcProvider, claims: dict[str, Any], message: str
) -> None:
    verifier = verifier_for(oidc_provider)
    with pytest.raises(Unauthenticated, match=message):
        await verifier.verify_async(oidc_provider.mint(claims))


def _unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    def part(d: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(claims)}."


async def test_alg_none_and_algorithm_confusion_are_refused(oidc_provider: OidcProvider) -> None:
    verifier = verifier_for(oidc_provider)
    await verifier.verify_async(oidc_provider.mint())  # keys held
    kid = oidc_provider.signing_key.kid
    claims = {"iss": oidc_provider.issuer, "aud": "alongside", "sub": "x", "role": "admin", "exp": time.time() + 60}
    with pytest.raises(Unauthenticated, match="algorithm"):
        await verifier.verify_async(_unsigned({"alg": "none", "kid": kid}, claims))
    # HS256 keyed with the provider's public key, as an attacker would try.
    public_pem = oidc_provider.signing_key.private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = base64.urlsafe_b64encode(json.dumps({"alg": "HS256", "kid": kid}).encode()).rstrip(b"=")
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=")
    signature = hmac.new(public_pem, header + b"." + body, "sha256").digest()
    confused = (header + b"." + body + b"." + base64.urlsafe_b64encode(signature).rstrip(b"=")).decode()
    with pytest.raises(Unauthenticated, match="signature does not verify"):
        await verifier.verify_async(confused)
    # An RS256 key in the JWKS never verifies a token that claims RS512.
    with pytest.raises(Unauthenticated, match="algorithm"):
        await verifier.verify_async(
            jwt.encode(claims, oidc_provider.signing_key.private, algorithm="RS512", headers={"kid": kid})
        )


def test_the_jwks_parser_takes_only_signing_keys_of_the_fixed_algorithms() -> None:
    good = SigningKey("good", rsa.generate_private_key(65537, 2048))
    small = SigningKey("small", rsa.generate_private_key(65537, 1024))
    document = {
        "keys": [
            good.jwk(),
            small.jwk(),  # too short
            {**good.jwk(), "kid": "enc", "use": "enc"},
            {**good.jwk(), "kid": "ps", "alg": "PS256"},  # another algorithm than the type's
            {"kty": "oct", "kid": "sym", "k": base64.urlsafe_b64encode(b"s" * 32).decode()},
            {**SigningKey("p384", ec.generate_private_key(ec.SECP384R1())).jwk()},
            "junk",
        ]
    }
    assert [(kid, key.algorithm) for kid, key in parse_jwks(document)] == [("good", "RS256")]
    with pytest.raises(ValueError):
        parse_jwks({"nokeys": []})


async def test_an_outage_keeps_the_keys_already_held(oidc_provider: OidcProvider) -> None:
    verifier = verifier_for(oidc_provider, max_age_s=0.0)
    await verifier.verify_async(oidc_provider.mint({"sub": "before"}))
    oidc_provider.jwks_down = True
    fetched = oidc_provider.hits["/jwks"]
    deadline = time.monotonic() + 5
    while oidc_provider.hits["/jwks"] == fetched:  # stale keys: each call starts a background refresh
        assert (await verifier.verify_async(oidc_provider.mint({"sub": f"during-{time.monotonic()}"}))).subject
        assert time.monotonic() < deadline, "no refresh was attempted"
        await asyncio.sleep(0.01)
    assert (await verifier.verify_async(oidc_provider.mint({"sub": "still"}))).subject == "still"


async def test_discovery_must_name_the_configured_issuer(oidc_provider: OidcProvider) -> None:
    external = JwksIssuer(oidc_provider.issuer + "/", "alongside", min_refresh_s=0.0)
    verifier = Verifier([], "alongside", "alongside", external=external)
    with pytest.raises(UnknownKey):
        await verifier.verify_async(oidc_provider.mint())
    assert oidc_provider.hits["/jwks"] == 0


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"AUTH_OIDC_ISSUER": "http://idp.example.org"}, "AUTH_OIDC_ISSUER must be an https URL"),
        ({"AUTH_OIDC_ISSUER": "https://idp.example.org", "AUTH_JWKS_URL": "ftp://x/"}, "AUTH_JWKS_URL must be"),
        ({"AUTH_JWKS_URL": "https://idp.example.org/jwks"}, "needs AUTH_OIDC_ISSUER"),
        ({"AUTH_OIDC_ISSUER": "https://idp.example.org", "AUTH_ROLE_CLAIM": " "}, "AUTH_ROLE_CLAIM"),
    ],
)
def test_bad_oidc_settings_fail_at_start(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env({"SERVICE_NAME": "x", "AUTH_HS256_SECRET": SECRET, **env})


def test_loopback_http_and_https_are_accepted() -> None:
    for issuer in ("http://127.0.0.1:8080", "http://localhost:1/realms/x", "http://[::1]:9", "https://idp.example"):
        env = {"SERVICE_NAME": "x", "AUTH_HS256_SECRET": SECRET, "AUTH_OIDC_ISSUER": issuer}
        assert Settings.from_env(env).auth_oidc_issuer == issuer
