"""Settings of the console's OpenID Connect sign-in (``alongside.console.oidc``),
read from the environment once at start-up; a bad one names its variable."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Self

from alongside.kit.settings import ConfigError, check_fetch_url, read_fields


@dataclasses.dataclass(frozen=True)
class OidcSettings:
    """Field ``x`` is read from ``X``; the secret from ``OIDC_CLIENT_SECRET_FILE``."""

    oidc_issuer: str
    oidc_client_id: str
    oidc_client_secret_file: str
    oidc_redirect_url: str  # this console's CALLBACK, as registered at the provider
    oidc_scopes: str = "openid"
    oidc_post_logout_url: str = ""  # where the provider sends the browser after sign-out
    # As the services read them, so the console accepts exactly the tokens they will.
    auth_oidc_audience: str = "alongside"
    auth_role_claim: str = "role"
    client_secret: str = dataclasses.field(default="", repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str], **overrides: Any) -> Self:
        try:
            values = read_fields(cls, env, overrides, skip=("client_secret",))
        except ConfigError as exc:
            raise ConfigError(f"{exc} (OpenID Connect sign-in)") from None
        try:
            secret = Path(values["oidc_client_secret_file"]).read_text().strip()
        except OSError as exc:
            raise ConfigError(f"OIDC_CLIENT_SECRET_FILE: cannot read it ({type(exc).__name__})") from None
        settings = cls(**values, client_secret=secret)
        settings.validate()
        return settings

    def validate(self) -> None:
        urls = ["oidc_issuer", "oidc_redirect_url"] + (["oidc_post_logout_url"] if self.oidc_post_logout_url else [])
        for name in urls:
            try:
                check_fetch_url(getattr(self, name))
            except ValueError as exc:
                raise ConfigError(f"{name.upper()} {exc}") from None
        if not self.oidc_client_id.strip() or not self.client_secret:
            raise ConfigError("OIDC_CLIENT_ID and a non-empty OIDC_CLIENT_SECRET_FILE are required")
        if "openid" not in self.oidc_scopes.split():
            raise ConfigError("OIDC_SCOPES must include openid")

    @property
    def secure_cookie(self) -> bool:
        return self.oidc_redirect_url.startswith("https:")
