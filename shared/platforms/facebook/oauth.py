"""Facebook Login for Pages: long-lived user token, then one connection per Page.

The code gives a short-lived user token, swapped for a long-lived one
(`fb_exchange_token`, about 60 days). Reels are published to Pages with Page
tokens read from `/me/accounts`; those do not expire. Each Page the user allowed
becomes its own connection, so the user picks Pages in Facebook's own dialog and
publishes to any of them. The long-lived user token is kept (in the refresh-token
slot) to revoke the app on disconnect; its expiry is what the reminder mail
tracks, since Facebook user tokens have no refresh grant.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from shared.log import get_logger
from shared.platforms import messages
from shared.platforms.errors import AuthError, PermanentError
from shared.platforms.facebook import errors
from shared.platforms.facebook.settings import FacebookSettings
from shared.platforms.oauth import (
    AccountNotEligible,
    ConnectedAccount,
    OAuthApp,
    OAuthProvider,
    Profile,
    StoredTokens,
    TokenSet,
    secret_text,
)

log = get_logger(__name__)
PAGE_FIELDS = "id,name,access_token,category,followers_count,picture,instagram_business_account"
PAGE_SIZE = 100          # Graph's largest page size for these edges; the default is 25
MAX_LIST_PAGES = 50      # a bound, so a looping `next` can never hang a connection
NO_PAGE = (
    "Facebook Reels are published to a Facebook Page, and this Facebook account does not manage any Page "
    "(or you did not allow access to one). Create a Page or ask to be made its admin, then connect again "
    "and select the Page."
)


class FacebookOAuth(OAuthProvider):
    key = "facebook"
    display_name = "Facebook"
    SETTINGS = FacebookSettings
    settings: FacebookSettings
    # business_management: since Graph v17, /me/accounts leaves out Pages owned through a
    # business portfolio unless it is granted; it also opens /me/businesses.
    # https://developers.facebook.com/docs/graph-api/reference/business/owned_pages/
    DEFAULT_SCOPES = ("pages_show_list", "pages_read_engagement", "pages_manage_posts", "read_insights",
                      "business_management")
    SCOPE_SEPARATOR = ","
    CAN_REFRESH = False
    DIES_AT_RECONNECT_BY = False
    ERRORS: ClassVar[Any] = errors
    CLIENT_SETTINGS = ("app_id", "app_secret")

    def oauth_app(self) -> OAuthApp:
        # The login dialog is on www.facebook.com; tokens, /me and Pages on the Graph host.
        return OAuthApp(client_id=self.settings.app_id or "", client_secret=secret_text(self.settings.app_secret),
                        auth_base=self.settings.www_base, token_base=self.settings.graph_base,
                        api_base=self.settings.graph_base)

    @property
    def AUTHORIZATION_PATH(self) -> str:  # type: ignore[override]  # noqa: N802 - the version is a setting
        return f"/{self.settings.graph_version}/dialog/oauth"

    @property
    def TOKEN_PATH(self) -> str:  # type: ignore[override]  # noqa: N802
        return f"/{self.settings.graph_version}/oauth/access_token"

    def graph(self, path: str) -> str:
        return self.api(f"/{self.settings.graph_version}{path}")

    def error_code(self, body: Mapping[str, Any]) -> str:
        error = body.get("error")
        if isinstance(error, Mapping) and "code" in error:
            return str(error["code"])
        return super().error_code(body)

    def exchange_code(self, *, code: str, redirect_uri: str, code_verifier: str | None) -> TokenSet:
        self.require_app_credentials()
        short = self.call_json("GET", self.token_url(), operation="token",
                               params={**self.client_fields(), "redirect_uri": redirect_uri, "code": code})
        body = self.call_json("GET", self.token_url(), operation="long_lived",
                              params={**self.client_fields(), "grant_type": "fb_exchange_token",
                                      "fb_exchange_token": self.token_set(short).access_token})
        long_lived = self.token_set(body)
        return TokenSet(long_lived.access_token, None, long_lived.expires_in, long_lived.expires_in,
                        long_lived.scopes)

    def refresh(self, stored: StoredTokens) -> TokenSet:
        # No refresh grant for user tokens; Page tokens never need one.
        raise AuthError(messages.connection_expired(self.display_name), platform=self.key, code="no_refresh_grant")

    def client_rejected(self, response: httpx.Response, body: Mapping[str, Any], code: str) -> bool:
        # Graph answers a wrong app secret with code 1 "Error validating client secret." and an unknown
        # app id with code 101 "Error validating application" (both HTTP 400).
        message = str((body.get("error") or {}).get("message") or "") if isinstance(body.get("error"), Mapping) \
            else ""
        return code == "101" or (code == "1" and "client secret" in message.lower()) or super().client_rejected(
            response, body, code)

    def revoke(self, stored: StoredTokens) -> bool:
        # DELETE /me/permissions removes the app's grant
        # (https://developers.facebook.com/docs/facebook-login/guides/permissions/request-revoke).
        # The user token goes in the Authorization header, never the URL (access logs keep URLs).
        if not stored.refresh_token:
            return False
        self.call_json("DELETE", self.graph("/me/permissions"), operation="revoke",
                       headers={"Authorization": f"Bearer {stored.refresh_token}"})
        return True

    def _all(self, path: str, auth: Mapping[str, str], fields: str) -> list[dict[str, Any]]:
        """Every item of a Graph list, following `paging.next` (Graph pages lists at 25 by default).
        https://developers.facebook.com/docs/graph-api/results"""
        items: list[dict[str, Any]] = []
        url: str | None = self.graph(path)
        params: dict[str, str] | None = {"fields": fields, "limit": str(PAGE_SIZE)}
        for _ in range(MAX_LIST_PAGES):
            if url is None:
                break
            body = self.call_json("GET", url, operation="pages", headers=dict(auth), params=params)
            items.extend(item for item in body.get("data") or [] if isinstance(item, dict))
            url = (body.get("paging") or {}).get("next")
            params = None  # `next` carries the query, cursor included
        return items

    def _pages(self, auth: Mapping[str, str]) -> list[dict[str, Any]]:
        """The Pages of /me/accounts plus those of the user's businesses, each once."""
        pages = self._all("/me/accounts", auth, PAGE_FIELDS)
        try:
            businesses = self._all("/me/businesses", auth, "id,name")
        except PermanentError as exc:
            # The user unticked business_management in the dialog: their own Pages still work.
            log.info("facebook businesses not readable", code=exc.code)
            businesses = []
        for business in businesses:
            for edge in ("owned_pages", "client_pages"):
                pages += self._all(f"/{business['id']}/{edge}", auth, PAGE_FIELDS)
        unique: dict[str, dict[str, Any]] = {}
        for page in pages:
            if page.get("id") and page.get("access_token"):
                unique.setdefault(str(page["id"]), page)
        return list(unique.values())

    def accounts(self, tokens: TokenSet) -> list[ConnectedAccount]:
        auth = {"Authorization": f"Bearer {tokens.access_token}"}
        me = self.call_json("GET", self.graph("/me"), operation="profile",
                            params={"fields": "id,name"}, headers=auth)
        found = self._pages(auth)
        if not found:
            raise AccountNotEligible(NO_PAGE, code="facebook_no_page")
        connected = []
        for page in found:
            picture = ((page.get("picture") or {}).get("data") or {}).get("url")
            ig = (page.get("instagram_business_account") or {}).get("id")
            profile = Profile(
                platform_account_id=str(page["id"]),
                username=page.get("name"),
                display_name=page.get("name"),
                avatar_url=picture,
                account_type="page",
                follower_count=page.get("followers_count"),
                account_info={"page_id": str(page["id"]), "category": page.get("category"),
                              "fb_user_id": str(me.get("id")), "fb_user_name": me.get("name"),
                              "instagram_business_account_id": ig},
            )
            # Page token (never expires) to publish with; the user token to revoke with.
            page_tokens = TokenSet(str(page["access_token"]), tokens.access_token, None,
                                   tokens.refresh_expires_in, tokens.scopes)
            connected.append(ConnectedAccount(profile, page_tokens))
        return connected
