"""Instagram API with Instagram Login: short-lived code token, then a 60-day token.

The code exchange gives a 1-hour token, swapped at once for a long-lived one
(`ig_exchange_token`). There is no refresh token: the long-lived token itself is
refreshed (`ig_refresh_token`) while it is valid and at least 24 h old. Only
Business and Creator accounts can publish Reels (EC-5).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from shared.platforms import messages
from shared.platforms.errors import AuthError
from shared.platforms.instagram import errors
from shared.platforms.instagram.settings import InstagramSettings
from shared.platforms.oauth import (
    AccountNotEligible,
    OAuthApp,
    OAuthProvider,
    Profile,
    StoredTokens,
    TokenSet,
    secret_text,
)

PROFESSIONAL_TYPES = {"BUSINESS", "MEDIA_CREATOR", "CREATOR"}
PERSONAL_ACCOUNT = (
    "Instagram Reels require a Business or Creator account, and this one is a personal account. "
    "To switch (free, takes a minute): in the Instagram app open Settings > Account type and tools > "
    "Switch to professional account, choose Creator or Business, then connect again. "
    "Guide: https://help.instagram.com/502981923235522"
)


class InstagramOAuth(OAuthProvider):
    key = "instagram"
    display_name = "Instagram"
    SETTINGS = InstagramSettings
    settings: InstagramSettings
    AUTHORIZATION_PATH = "/oauth/authorize"
    TOKEN_PATH = "/oauth/access_token"  # noqa: S105 - a URL path, not a secret
    DEFAULT_SCOPES = ("instagram_business_basic", "instagram_business_content_publish",
                      "instagram_business_manage_insights")
    SCOPE_SEPARATOR = ","
    # Refresh weekly-ish: after 10 % of the 60 days, and never before 24 h (the platform refuses).
    REFRESH_AFTER_FRACTION = 0.1
    MIN_AGE_FOR_REFRESH_S = 24 * 3600
    ERRORS: ClassVar[Any] = errors
    CLIENT_SETTINGS = ("app_id", "app_secret")
    # No revoke endpoint: Instagram API with Instagram Login has none (the user removes the app under
    # Settings > Apps and websites); disconnecting wipes our copy and the token dies within 60 days.

    def client_rejected(self, response: httpx.Response, body: Mapping[str, Any], code: str) -> bool:
        # The code exchange answers a wrong app id or secret with "Invalid platform app" (HTTP 400);
        # Graph answers an unknown app with code 101.
        message = str(body.get("error_message") or "")
        return code == "101" or "invalid platform app" in message.lower() or super().client_rejected(
            response, body, code)

    def oauth_app(self) -> OAuthApp:
        # Consent on www.instagram.com, code exchange on api.instagram.com, the rest on the Graph host.
        return OAuthApp(client_id=self.settings.app_id or "", client_secret=secret_text(self.settings.app_secret),
                        auth_base=self.settings.www_base, token_base=self.settings.api_base,
                        api_base=self.settings.graph_base)

    def exchange_code(self, *, code: str, redirect_uri: str, code_verifier: str | None) -> TokenSet:
        # Instagram appends "#_" to the code in some redirects.
        short = super().exchange_code(code=code.removesuffix("#_"), redirect_uri=redirect_uri,
                                      code_verifier=code_verifier)
        body = self.call_json("GET", self.api("/access_token"), operation="long_lived",
                              params={"grant_type": "ig_exchange_token",
                                      "client_secret": self.app.client_secret,
                                      "access_token": short.access_token})
        return self._long_lived(body, short)

    def refresh(self, stored: StoredTokens) -> TokenSet:
        if not stored.access_token:
            raise AuthError(messages.connection_expired(self.display_name), platform=self.key, code="no_token")
        body = self.call_json("GET", self.api("/refresh_access_token"), operation="refresh",
                              params={"grant_type": "ig_refresh_token", "access_token": stored.access_token})
        return self._long_lived(body, None)

    def token_set(self, body: Mapping[str, Any]) -> TokenSet:
        # The code exchange may wrap its answer in a `data` list.
        data = body.get("data")
        if isinstance(data, list) and data and isinstance(data[0], Mapping):
            body = data[0]
        tokens = super().token_set(body)
        if "user_id" in body:
            tokens = TokenSet(tokens.access_token, None, tokens.expires_in, None, tokens.scopes,
                              {"user_id": str(body["user_id"])})
        return tokens

    def _long_lived(self, body: Mapping[str, Any], short: TokenSet | None) -> TokenSet:
        tokens = super().token_set(body)
        # The long-lived token is both what we use and what we refresh with; once it
        # expires the user must sign in again, so its expiry is the reconnect-by time.
        return TokenSet(tokens.access_token, None, tokens.expires_in, tokens.expires_in,
                        short.scopes if short else (), dict(short.extra) if short else {})

    def error_code(self, body: Mapping[str, Any]) -> str:
        error = body.get("error")
        if isinstance(error, Mapping) and "code" in error:
            return str(error["code"])
        return super().error_code(body) or str(body.get("error_type") or "")

    def profile(self, tokens: TokenSet) -> Profile:
        body = self.call_json(
            "GET", self.api(f"/{self.settings.graph_version}/me"), operation="profile",
            params={"fields": "user_id,username,name,account_type,profile_picture_url,followers_count"},
            headers={"Authorization": f"Bearer {tokens.access_token}"})
        account_type = str(body.get("account_type") or "").upper()
        if account_type not in PROFESSIONAL_TYPES:
            raise AccountNotEligible(PERSONAL_ACCOUNT, code="instagram_personal_account",
                                     detail={"account_type": account_type or None})
        user_id = str(body.get("user_id") or body.get("id") or tokens.extra.get("user_id") or "")
        return Profile(
            platform_account_id=user_id,
            username=body.get("username"),
            display_name=body.get("name") or body.get("username"),
            avatar_url=body.get("profile_picture_url"),
            account_type=account_type,
            follower_count=body.get("followers_count"),
            account_info={"ig_user_id": user_id, "app_scoped_id": body.get("id")},
        )
