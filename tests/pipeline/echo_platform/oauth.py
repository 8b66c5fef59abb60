"""Echo's sign-in: plain OAuth 2 with PKCE, its profile at /me."""

from __future__ import annotations

from typing import Any, ClassVar

from shared.platforms.oauth import OAuthApp, OAuthProvider, Profile, TokenSet, secret_text
from tests.pipeline.echo_platform import errors
from tests.pipeline.echo_platform.settings import EchoSettings


class EchoOAuth(OAuthProvider):
    key = "echo"
    display_name = "Echo"
    SETTINGS = EchoSettings
    settings: EchoSettings
    AUTHORIZATION_PATH = "/authorize"
    TOKEN_PATH = "/token"  # noqa: S105 - a URL path, not a secret
    DEFAULT_SCOPES = ("post",)
    USES_PKCE = True
    CLIENT_SETTINGS = ("client_id", "client_secret")
    ERRORS: ClassVar[Any] = errors

    def oauth_app(self) -> OAuthApp:
        base = self.settings.api_base
        return OAuthApp(client_id=self.settings.client_id or "", client_secret=secret_text(self.settings.client_secret),
                        auth_base=base, token_base=base, api_base=base)

    def profile(self, tokens: TokenSet) -> Profile:
        me = self.call_json("GET", self.api("/me"), operation="profile",
                            headers={"Authorization": f"Bearer {tokens.access_token}"})
        return Profile(platform_account_id=str(me["id"]), username=me.get("username"), account_type="creator")
