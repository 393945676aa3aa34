"""The test OpenID provider refuses what a real one refuses: an unknown client
or redirect URI, a wrong secret, a PKCE verifier that does not match, a code
used twice; and its tokens verify by its own JWKS."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt

from alongside.kit.testing.oidc_provider import OidcProvider

REDIRECT = "http://127.0.0.1:9/cb"


def challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def authorize(provider: OidcProvider, http: httpx.Client, verifier: str, **extra: str) -> httpx.Response:
    params = {
        "response_type": "code",
        "client_id": provider.client_id,
        "redirect_uri": REDIRECT,
        "scope": "openid",
        "state": "s-1",
        "nonce": "n-1",
        "code_challenge": challenge(verifier),
        "code_challenge_method": "S256",
        **extra,
    }
    return http.get(provider.issuer + "/authorize", params=params)


def code_from(response: httpx.Response) -> str:
    assert response.status_code == 302
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query["state"] == ["s-1"]
    return query["code"][0]


def exchange(provider: OidcProvider, http: httpx.Client, code: str, verifier: str, **extra: str) -> httpx.Response:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier}
    return http.post(
        provider.issuer + "/token", data={**form, **extra}, auth=(provider.client_id, provider.client_secret)
    )


def test_code_flow_with_pkce_and_its_refusals(oidc_provider: OidcProvider) -> None:
    oidc_provider.redirect_uris = (REDIRECT,)
    oidc_provider.user = ("p-7", "peer")
    verifier = secrets.token_urlsafe(48)
    with httpx.Client() as http:
        assert authorize(oidc_provider, http, verifier, redirect_uri="http://127.0.0.1:9/evil").status_code == 400
        assert authorize(oidc_provider, http, verifier, client_id="other").status_code == 400
        plain = authorize(oidc_provider, http, verifier, code_challenge_method="plain")
        assert "error=invalid_request" in plain.headers["location"]

        code = code_from(authorize(oidc_provider, http, verifier))
        assert exchange(oidc_provider, http, code, "wrong-verifier").json()["error"] == "invalid_grant"
        code = code_from(authorize(oidc_provider, http, verifier))
        assert exchange(oidc_provider, http, code, verifier, redirect_uri=REDIRECT + "x").status_code == 400
        code = code_from(authorize(oidc_provider, http, verifier))
        wrong_secret = http.post(
            oidc_provider.issuer + "/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT,
                "code_verifier": verifier,
            },
            auth=(oidc_provider.client_id, "not-the-secret"),
        )
        assert wrong_secret.status_code == 401

        code = code_from(authorize(oidc_provider, http, verifier))
        issued = exchange(oidc_provider, http, code, verifier)
        assert issued.status_code == 200
        assert exchange(oidc_provider, http, code, verifier).json()["error"] == "invalid_grant"  # used once

        jwks = jwt.PyJWKClient(oidc_provider.discovery()["jwks_uri"])
        id_token, access = issued.json()["id_token"], issued.json()["access_token"]
        claims = jwt.decode(
            id_token, jwks.get_signing_key_from_jwt(id_token).key, ["RS256"], audience=oidc_provider.client_id
        )
        assert (claims["sub"], claims["role"], claims["nonce"], claims["iss"]) == (
            "p-7",
            "peer",
            "n-1",
            oidc_provider.issuer,
        )
        assert (
            jwt.decode(access, jwks.get_signing_key_from_jwt(access).key, ["RS256"], audience="alongside")["sub"]
            == "p-7"
        )
