"""Bearer tokens: what verifies, and every way a token is refused."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from alongside.kit.auth.policy import Authorizer, Policy, current_identity, reset
from alongside.kit.auth.tokens import Identity, Key, Minter, Verifier, key_from_pem
from alongside.kit.errors import PermissionDenied, Unauthenticated

SECRET = "test-secret-that-is-long-enough-for-hs256"
ISS, AUD = "alongside", "alongside"


def hs() -> tuple[Minter, Verifier]:
    return Minter(SECRET, "HS256", ISS, AUD), Verifier([Key("HS256", SECRET)], ISS, AUD)


def test_hs256_round_trip() -> None:
    minter, verifier = hs()
    assert verifier.verify(minter.mint("p-1", "peer")) == Identity("p-1", "peer")
    assert verifier.verify(minter.mint("scheduler", "service:scheduler")).service == "scheduler"


@pytest.mark.parametrize("private", [ed25519.Ed25519PrivateKey.generate(), rsa.generate_private_key(65537, 2048)])
def test_public_key_round_trip(private: ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey) -> None:
    pem = private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    key = key_from_pem(pem)
    minter = Minter(private, key.algorithm, ISS, AUD)
    assert Verifier([key], ISS, AUD).verify(minter.mint("m-1", "manager")).role == "manager"


def test_expired_token_is_refused() -> None:
    _, verifier = hs()
    old = jwt.encode(
        {"iss": ISS, "aud": AUD, "sub": "x", "role": "intake", "exp": int(time.time()) - 120}, SECRET, algorithm="HS256"
    )
    with pytest.raises(Unauthenticated, match="expired"):
        verifier.verify(old)


def test_a_remembered_token_still_expires_and_a_failure_is_not_remembered() -> None:
    verifier = Verifier([Key("HS256", SECRET)], ISS, AUD, leeway_s=0)
    claims = {"iss": ISS, "aud": AUD, "sub": "x", "role": "intake", "exp": int(time.time()) + 2}
    token = jwt.encode(claims, SECRET, algorithm="HS256")
    assert verifier.verify(token) == verifier.verify(token) == Identity("x", "intake")
    time.sleep(claims["exp"] - time.time() + 0.1)  # type: ignore[operator]
    with pytest.raises(Unauthenticated, match="expired"):
        verifier.verify(token)
    forged = Minter("another-secret-another-secret-another", "HS256", ISS, AUD).mint("x", "admin")
    for _ in range(2):
        with pytest.raises(Unauthenticated, match="signature"):
            verifier.verify(forged)


def test_badly_signed_token_is_refused() -> None:
    _, verifier = hs()
    forged = Minter("another-secret-another-secret-another", "HS256", ISS, AUD).mint("x", "admin")
    with pytest.raises(Unauthenticated, match="signature"):
        verifier.verify(forged)


def test_alg_none_is_refused() -> None:
    _, verifier = hs()

    def part(d: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()

    claims = {"iss": ISS, "aud": AUD, "sub": "x", "role": "admin", "exp": int(time.time()) + 60}
    unsigned = f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."
    with pytest.raises(Unauthenticated, match="algorithm"):
        verifier.verify(unsigned)


def test_unexpected_algorithm_is_refused() -> None:
    # An Ed25519 deployment must not accept an HS256 token signed with the public key bytes.
    private = ed25519.Ed25519PrivateKey.generate()
    pem = private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    verifier = Verifier([key_from_pem(pem)], ISS, AUD)
    confused = jwt.encode(
        {"iss": ISS, "aud": AUD, "sub": "x", "role": "admin", "exp": int(time.time()) + 60}, "k" * 32, "HS256"
    )
    with pytest.raises(Unauthenticated, match="algorithm"):
        verifier.verify(confused)


def test_wrong_audience_is_refused() -> None:
    _, verifier = hs()
    token = Minter(SECRET, "HS256", ISS, "someone-else").mint("x", "intake")
    with pytest.raises(Unauthenticated, match="audience"):
        verifier.verify(token)


def test_unknown_role_cannot_be_minted_or_accepted() -> None:
    minter, verifier = hs()
    with pytest.raises(ValueError):
        minter.mint("x", "superuser")
    token = jwt.encode(
        {"iss": ISS, "aud": AUD, "sub": "x", "role": "root", "exp": int(time.time()) + 60}, SECRET, "HS256"
    )
    with pytest.raises(Unauthenticated, match="role"):
        verifier.verify(token)


def test_authorizer_checks_the_role_table_and_binds_the_identity() -> None:
    minter, verifier = hs()
    policy = Policy.for_service("svc.v1.S", ["Read", "Write"], {"Read": {"peer", "admin"}, "Write": {"admin"}})
    auth = Authorizer(verifier, [policy])
    bound = auth.authorize("/svc.v1.S/Read", [("authorization", f"Bearer {minter.mint('p-9', 'peer')}")])
    assert current_identity() == Identity("p-9", "peer")
    reset(bound)
    with pytest.raises(PermissionDenied):
        auth.authorize("/svc.v1.S/Write", [("authorization", f"Bearer {minter.mint('p-9', 'peer')}")])
    with pytest.raises(Unauthenticated):
        auth.authorize("/svc.v1.S/Read", [])
    with pytest.raises(Unauthenticated):
        current_identity()


def test_a_policy_must_name_every_rpc() -> None:
    with pytest.raises(ValueError, match="Write"):
        Policy.for_service("svc.v1.S", ["Read", "Write"], {"Read": {"admin"}})
