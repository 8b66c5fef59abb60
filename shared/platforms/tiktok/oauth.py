"""TikTok Login Kit v2: comma-separated scopes, `client_key`, rotating refresh tokens.

Every refresh returns a new refresh token and kills the old one, so the caller
stores both tokens in one update (shared/connections/refresh.py does). Creator
info is read at connect time and kept in `account_info` for the publish form.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from shared.platforms.errors import PlatformError
from shared.platforms.oauth import OAuthApp, OAuthProvider, Profile, StoredTokens, TokenSet, secret_text
from shared.platforms.tiktok import errors
from shared.platforms.tiktok.settings import TikTokSettings

USER_FIELDS = "open_id,union_id,avatar_url,display_name,username"


class TikTokOAuth(OAuthProvider):
    key = "tiktok"
    display_name = "TikTok"
    SETTINGS = TikTokSettings
    settings: TikTokSettings
    AUTHORIZATION_PATH = "/v2/auth/authorize/"
    TOKEN_PATH = "/v2/oauth/token/"  # noqa: S105 - a URL path, not a secret
    REVOKE_PATH = "/v2/oauth/revoke/"
    # video.list reads the counts of the creator's own videos (analytics).
    DEFAULT_SCOPES = ("user.info.basic", "user.info.profile", "video.publish", "video.upload", "video.list")
    SCOPE_SEPARATOR = ","
    CLIENT_ID_PARAM = "client_key"
    # Access tokens live about 2 h: refresh in the last half hour.
    REFRESH_AFTER_FRACTION = 0.75
    ERRORS: ClassVar[Any] = errors
    # https://developers.tiktok.com/doc/oauth-error-handling: `invalid_client` (client authentication
    # failed) and `unauthorized_client` are about our app; `invalid_grant` about the user's token.
    CLIENT_SETTINGS = ("client_key", "client_secret")

    def oauth_app(self) -> OAuthApp:
        # The consent page is on www.tiktok.com; tokens and the profile on open.tiktokapis.com.
        return OAuthApp(client_id=self.settings.client_key or "",
                        client_secret=secret_text(self.settings.client_secret),
                        auth_base=self.settings.www_base, token_base=self.settings.api_base,
                        api_base=self.settings.api_base)

    def is_error_body(self, body: Mapping[str, Any]) -> bool:
        error = body.get("error")
        if isinstance(error, Mapping):
            return str(error.get("code", "ok")) != "ok"
        return isinstance(error, str) and bool(error)

    def revoke(self, stored: StoredTokens) -> bool:
        # TikTok revokes with the access token (the grant goes with it), as form fields in the POST
        # body: https://developers.tiktok.com/doc/oauth-user-access-token-management ("Revoke access").
        if not stored.access_token:
            return False
        self.call_json("POST", self.token_url().replace(self.TOKEN_PATH, self.REVOKE_PATH or ""),
                       operation="revoke", data={**self.client_fields(), "token": stored.access_token})
        return True

    def profile(self, tokens: TokenSet) -> Profile:
        auth = {"Authorization": f"Bearer {tokens.access_token}"}
        fields = USER_FIELDS + (",follower_count" if "user.info.stats" in tokens.scopes else "")
        body = self.call_json("GET", self.api("/v2/user/info/"), operation="profile",
                              params={"fields": fields}, headers=auth)
        user = (body.get("data") or {}).get("user") or {}
        open_id = str(user.get("open_id") or tokens.extra.get("open_id") or "")
        return Profile(
            platform_account_id=open_id,
            username=user.get("username"),
            display_name=user.get("display_name"),
            avatar_url=user.get("avatar_url"),
            account_type="creator",
            follower_count=user.get("follower_count"),
            account_info={"open_id": open_id, "union_id": user.get("union_id"),
                          "creator_info": self.creator_info(tokens.access_token)},
        )

    def creator_info(self, access_token: str) -> dict[str, Any]:
        """Privacy options, disabled interactions, max duration: what the publish form must offer."""
        try:
            body = self.call_json("POST", self.api("/v2/post/publish/creator_info/query/"),
                                  operation="creator_info",
                                  headers={"Authorization": f"Bearer {access_token}",
                                           "Content-Type": "application/json; charset=UTF-8"})
        except PlatformError as exc:
            # The connection is still good; the publish form asks again before posting.
            return {"unavailable": exc.code}
        return dict(body.get("data") or {})
