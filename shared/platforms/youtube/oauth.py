"""Google OAuth for YouTube: offline access, forced consent, PKCE, the user's channel.

`access_type=offline` plus `prompt=consent` makes Google send a refresh token on
every connect (it sends one only on first consent otherwise). Refreshes return no
new refresh token; the stored one stays. A Google account without a channel
cannot upload, so connecting it is refused with a plain explanation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from shared.platforms.oauth import (
    AccountNotEligible,
    OAuthApp,
    OAuthProvider,
    Profile,
    StoredTokens,
    TokenSet,
    secret_text,
)
from shared.platforms.youtube import errors
from shared.platforms.youtube.settings import YouTubeSettings

# videos.delete and videos.update accept any of these (youtube.upload is not among them):
# https://developers.google.com/youtube/v3/docs/videos/delete#auth,
# https://developers.google.com/youtube/v3/docs/videos/update#auth
FORCE_SSL_SCOPE = "https://www.googleapis.com/auth/youtube.force-ssl"
EDIT_VIDEO_SCOPES = ("https://www.googleapis.com/auth/youtube", FORCE_SSL_SCOPE,
                     "https://www.googleapis.com/auth/youtubepartner")

NO_CHANNEL = (
    "This Google account has no YouTube channel yet, so there is nowhere to publish. "
    "Create one at https://www.youtube.com/create_channel, then connect again."
)


class YouTubeOAuth(OAuthProvider):
    key = "youtube"
    display_name = "YouTube"
    SETTINGS = YouTubeSettings
    settings: YouTubeSettings
    AUTHORIZATION_PATH = "/o/oauth2/v2/auth"
    TOKEN_PATH = "/token"  # noqa: S105 - a URL path, not a secret
    REVOKE_PATH = "/revoke"
    DEFAULT_SCOPES = (
        "https://www.googleapis.com/auth/youtube.upload",
        "https://www.googleapis.com/auth/youtube.readonly",
        "https://www.googleapis.com/auth/yt-analytics.readonly",
        # videos.delete: a scheduled Short staged on the channel (private, with publishAt) is
        # deleted when the user cancels it; youtube.upload does not allow that.
        # https://developers.google.com/youtube/v3/docs/videos/delete#auth
        FORCE_SSL_SCOPE,
    )
    USES_PKCE = True
    EXTRA_AUTH_PARAMS: ClassVar[Mapping[str, str]] = {
        "access_type": "offline",
        "prompt": "consent",
        "include_granted_scopes": "true",
    }
    ERRORS: ClassVar[Any] = errors
    # Google answers 401 `invalid_client` / `unauthorized_client` ("Unauthorized") for a wrong secret or a
    # token of another client, and 401 `deleted_client` once the OAuth client is deleted
    # (https://developers.google.com/identity/protocols/oauth2/web-server#exchange-authorization-code).
    CLIENT_REJECTED_CODES: ClassVar[frozenset[str]] = frozenset(
        {"invalid_client", "unauthorized_client", "deleted_client"})
    CLIENT_SETTINGS = ("client_id", "client_secret")

    def oauth_app(self) -> OAuthApp:
        # Consent on accounts.google.com, tokens on oauth2.googleapis.com, the channel on www.googleapis.com.
        return OAuthApp(client_id=self.settings.client_id or "", client_secret=secret_text(self.settings.client_secret),
                        auth_base=self.settings.auth_base, token_base=self.settings.token_base,
                        api_base=self.settings.api_base)

    def revoke(self, stored: StoredTokens) -> bool:
        token = stored.refresh_token or stored.access_token
        if not token:
            return False
        # The token goes in the form body, never the URL (where access logs keep it):
        # https://developers.google.com/identity/protocols/oauth2/web-server#tokenrevoke
        self.call_json("POST", f"{self.app.token_base.rstrip('/')}{self.REVOKE_PATH}",
                       operation="revoke", data={"token": token})
        return True

    def error_code(self, body: Mapping[str, Any]) -> str:
        error = body.get("error")
        if isinstance(error, Mapping):
            reasons = [e.get("reason") for e in error.get("errors") or [] if isinstance(e, Mapping)]
            return str(reasons[0] if reasons else error.get("status") or error.get("code") or "")
        return super().error_code(body)

    def profile(self, tokens: TokenSet) -> Profile:
        body = self.call_json("GET", self.api("/youtube/v3/channels"), operation="profile",
                              params={"part": "snippet,statistics", "mine": "true"},
                              headers={"Authorization": f"Bearer {tokens.access_token}"})
        items = body.get("items") or []
        if not items:
            raise AccountNotEligible(NO_CHANNEL, code="youtube_no_channel")
        channel = items[0]
        snippet = channel.get("snippet") or {}
        stats = channel.get("statistics") or {}
        thumbs = snippet.get("thumbnails") or {}
        avatar = (thumbs.get("default") or thumbs.get("medium") or {}).get("url")
        subscribers = None if stats.get("hiddenSubscriberCount") else stats.get("subscriberCount")
        return Profile(
            platform_account_id=str(channel["id"]),
            username=snippet.get("customUrl"),
            display_name=snippet.get("title"),
            avatar_url=avatar,
            account_type="channel",
            follower_count=int(subscribers) if subscribers is not None else None,
            account_info={"channel_id": str(channel["id"])},
        )
