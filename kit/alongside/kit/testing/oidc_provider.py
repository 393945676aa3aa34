"""A small OpenID provider for tests: a real HTTP server on a loopback port.

It serves discovery, its JWKS, an authorize endpoint that signs in
``provider.user`` at once (no form), a token endpoint for the authorization
code grant with PKCE (S256 only) that checks the client's id, secret and
redirect URI and honours each code once, and an end-session endpoint. Its
tokens are signed with keys it makes itself; tests add, rotate and retire
keys, sign tokens directly (``mint``) and make the JWKS fail (``jwks_down``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

PrivateKey = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
CODE_TTL_S = 60


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private: PrivateKey

    @property
    def algorithm(self) -> str:
        if isinstance(self.private, rsa.RSAPrivateKey):
            return "RS256"
        return "EdDSA" if isinstance(self.private, ed25519.Ed25519PrivateKey) else "ES256"

    def jwk(self) -> dict[str, Any]:
        algorithm = jwt.get_algorithm_by_name(self.algorithm)
        public = json.loads(algorithm.to_jwk(self.private.public_key()))
        return {**public, "kid": self.kid, "use": "sig", "alg": self.algorithm}


@dataclass
class Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str | None
    subject: str
    role: str
    expires: float


@dataclass
class OidcProvider:
    client_id: str = "alongside-console"
    client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    redirect_uris: tuple[str, ...] = ()
    post_logout_uris: tuple[str, ...] = ()
    audience: str = "alongside"  # the access token's aud: what the services expect
    user: tuple[str, str] = ("test-user", "intake")  # subject and role /authorize signs in
    ttl_s: int = 300
    jwks_down: bool = False  # the JWKS answers 503 while set
    # Tests that play a broken or hostile provider rewrite the id token it issues.
    id_token_filter: Callable[[str], str] | None = None
    keys: list[SigningKey] = field(default_factory=list)
    hits: Counter[str] = field(default_factory=Counter)  # requests per path
    _grants: dict[str, Grant] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    @property
    def issuer(self) -> str:
        assert self._server is not None, "start the provider first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> OidcProvider:
        if not self.keys:
            self.add_key()
        server = self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, args=(0.05,), name="oidc-provider", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> OidcProvider:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def add_key(self, private: PrivateKey | None = None, kid: str | None = None) -> SigningKey:
        """Publish a key (a new RSA key by default); the newest one signs."""
        key = SigningKey(kid or f"k-{secrets.token_hex(4)}", private or rsa.generate_private_key(65537, 2048))
        with self._lock:
            self.keys.append(key)
        return key

    def retire(self, kid: str) -> None:
        with self._lock:
            self.keys = [k for k in self.keys if k.kid != kid]

    @property
    def signing_key(self) -> SigningKey:
        return self.keys[-1]

    def mint(self, claims: dict[str, Any] | None = None, key: SigningKey | None = None, **header: Any) -> str:
        """An access token for ``user`` (claims override), signed by ``key``."""
        key = key or self.signing_key
        now = int(time.time())
        body: dict[str, Any] = {"iss": self.issuer, "aud": self.audience, "sub": self.user[0], "role": self.user[1]}
        body |= {"iat": now, "exp": now + self.ttl_s, **(claims or {})}
        return jwt.encode(body, key.private, algorithm=key.algorithm, headers={"kid": key.kid, **header})

    def discovery(self) -> dict[str, Any]:
        base = self.issuer
        return {
            "issuer": base,
            "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": f"{base}/token",
            "jwks_uri": f"{base}/jwks",
            "end_session_endpoint": f"{base}/logout",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256", "ES256", "EdDSA"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "scopes_supported": ["openid", "profile"],
        }

    def authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str], dict[str, Any]]:
        """(status, headers, body) for GET /authorize."""
        redirect = query.get("redirect_uri", "")
        if query.get("client_id") != self.client_id or redirect not in self.redirect_uris:
            return 400, {}, {"error": "invalid_request", "error_description": "unknown client or redirect_uri"}
        reply = {"state": query["state"]} if "state" in query else {}
        if query.get("response_type") != "code" or "openid" not in query.get("scope", "").split():
            reply["error"] = "unsupported_response_type"
        elif query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            reply["error"] = "invalid_request"
        else:
            code = secrets.token_urlsafe(24)
            subject, role = self.user
            grant = Grant(self.client_id, redirect, query["code_challenge"], query.get("nonce"), subject, role, 0.0)
            grant.expires = time.time() + CODE_TTL_S
            with self._lock:
                self._grants[code] = grant
            reply["code"] = code
        return 302, {"location": f"{redirect}?{urlencode(reply)}"}, {}

    def token(self, form: dict[str, str], authorization: str) -> tuple[int, dict[str, Any]]:
        """(status, body) for POST /token."""
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        if authorization.lower().startswith("basic "):
            client_id, _, secret = base64.b64decode(authorization[6:]).decode().partition(":")
        if client_id != self.client_id or not secrets.compare_digest(secret, self.client_secret):
            return 401, {"error": "invalid_client"}
        if form.get("grant_type") != "authorization_code":
            return 400, {"error": "unsupported_grant_type"}
        with self._lock:
            grant = self._grants.pop(form.get("code", ""), None)  # a code works once
        if grant is None or grant.expires < time.time() or grant.client_id != client_id:
            return 400, {"error": "invalid_grant", "error_description": "unknown, used or expired code"}
        if form.get("redirect_uri") != grant.redirect_uri:
            return 400, {"error": "invalid_grant", "error_description": "redirect_uri differs"}
        verifier = form.get("code_verifier", "").encode()
        if not verifier or _s256(verifier) != grant.challenge:
            return 400, {"error": "invalid_grant", "error_description": "PKCE verifier does not match"}
        claims = {"sub": grant.subject, "role": grant.role}
        id_claims = {**claims, "aud": client_id, "nonce": grant.nonce, "auth_time": int(time.time())}
        id_token = self.mint({k: v for k, v in id_claims.items() if v is not None})
        return 200, {
            "access_token": self.mint(claims),
            "id_token": self.id_token_filter(id_token) if self.id_token_filter else id_token,
            "token_type": "Bearer",
            "expires_in": self.ttl_s,
            "scope": "openid",
        }


def _s256(verifier: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=").decode()


def _handler(provider: OidcProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            provider.hits[url.path] += 1
            if url.path == "/.well-known/openid-configuration":
                self._json(200, provider.discovery())
            elif url.path == "/jwks":
                with provider._lock:
                    keys = [k.jwk() for k in provider.keys]
                self._json(503 if provider.jwks_down else 200, {} if provider.jwks_down else {"keys": keys})
            elif url.path == "/authorize":
                status, headers, body = provider.authorize(dict(parse_qsl(url.query)))
                self._json(status, body, headers)
            elif url.path == "/logout":
                target = dict(parse_qsl(url.query)).get("post_logout_redirect_uri", "")
                if target in provider.post_logout_uris:
                    self._json(302, {}, {"location": target})
                else:
                    self._json(200, {"signed_out": True})
            else:
                self._json(404, {"error": "not_found"})

        def do_POST(self) -> None:
            provider.hits[self.path] += 1
            length = int(self.headers.get("content-length") or 0)
            form = dict(parse_qsl(self.rfile.read(length).decode()))
            if self.path != "/token":
                self._json(404, {"error": "not_found"})
                return
            status, body = provider.token(form, self.headers.get("authorization", ""))
            self._json(status, body)

        def _json(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            fixed = {"content-type": "application/json", "cache-control": "no-store"}
            for name, value in {**(headers or {}), **fixed}.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler
