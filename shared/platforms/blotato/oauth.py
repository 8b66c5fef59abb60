"""Blotato: connected with an API key, not OAuth.

The key is checked with `GET /v2/users/me`; `GET /v2/users/me/accounts?platform=tiktok`
lists the TikTok accounts connected inside Blotato, and the user picks one. A
user without their own key publishes through the app's key (BLOTATO_API_KEY).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, ClassVar

from shared.platforms.blotato import errors
from shared.platforms.blotato.settings import BlotatoSettings
from shared.platforms.errors import AuthError, PermanentError
from shared.platforms.oauth import (
    AccountNotEligible,
    ApiKeyProvider,
    ChooseAccount,
    NotConfigured,
    Profile,
    secret_text,
)

BAD_KEY = "Blotato did not accept this API key. Copy it again from Blotato > Settings > API and retry."
NO_KEY = "Please enter your Blotato API key (Blotato > Settings > API)."
NO_TIKTOK = (
    "Your Blotato account has no TikTok account connected. Connect TikTok inside Blotato first, then retry."
)
CHOOSE = "Your Blotato account has several TikTok accounts. Please choose the one to publish to."
UNKNOWN_ACCOUNT = "That TikTok account is not connected to your Blotato account. Please choose another."


class BlotatoConnect(ApiKeyProvider):
    key = "blotato"
    display_name = "TikTok (via Blotato)"
    ERRORS: ClassVar[Any] = errors
    CONNECT_NOTE = ("Paste the Blotato API key (Blotato > Settings > API); POST /connections/blotato/accounts "
                    "lists its TikTok accounts to choose from.")
    SETTINGS = BlotatoSettings
    settings: BlotatoSettings

    def key_to_use(self, user_key: str | None) -> str:
        key = (user_key or "").strip() or secret_text(self.settings.api_key)
        if not key:
            raise NotConfigured(NO_KEY, code="blotato_key_missing")
        return key

    def _get(self, path: str, api_key: str, **params: Any) -> dict[str, Any]:
        url = f"{self.settings.api_base.rstrip('/')}{path}"
        try:
            return self.call_json("GET", url, operation="profile", params=params or None,
                                  headers={"blotato-api-key": api_key})
        except AuthError as exc:
            raise PermanentError(BAD_KEY, platform=self.key, code=exc.code,
                                 status=exc.status) from None

    def me(self, api_key: str) -> dict[str, Any]:
        return self._get("/v2/users/me", api_key)

    def tiktok_accounts(self, api_key: str) -> list[dict[str, Any]]:
        body = self._get("/v2/users/me/accounts", api_key, platform="tiktok")
        return [dict(a) for a in body.get("items") or [] if isinstance(a, Mapping) and a.get("id")]

    def choices(self, api_key: str | None) -> list[dict[str, Any]]:
        key = self.key_to_use(api_key)
        self.me(key)
        return [{"id": str(a["id"]), "username": a.get("username"), "name": a.get("fullname")}
                for a in self.tiktok_accounts(key)]

    def connect(self, own_key: str | None, account_id: str | None) -> Profile:
        profile = self.profile_for(self.key_to_use(own_key), account_id)
        return replace(profile, account_info={**profile.account_info, "uses_app_key": own_key is None})

    def profile_for(self, api_key: str, account_id: str | None) -> Profile:
        """Check the key, then the TikTok account to publish to (the only one, or the chosen one)."""
        user = self.me(api_key)
        accounts = self.tiktok_accounts(api_key)
        if not accounts:
            raise AccountNotEligible(NO_TIKTOK, code="blotato_no_tiktok")
        if account_id is None:
            if len(accounts) > 1:
                raise ChooseAccount(CHOOSE, detail=[
                    {"id": str(a["id"]), "username": a.get("username"), "name": a.get("fullname")}
                    for a in accounts])
            chosen = accounts[0]
        else:
            matches = [a for a in accounts if str(a["id"]) == str(account_id)]
            if not matches:
                raise AccountNotEligible(UNKNOWN_ACCOUNT, code="blotato_unknown_account")
            chosen = matches[0]
        return Profile(
            platform_account_id=str(chosen["id"]),
            username=chosen.get("username"),
            display_name=chosen.get("fullname") or chosen.get("username"),
            account_type="tiktok_via_blotato",
            account_info={"blotato_account_id": str(chosen["id"]), "blotato_user_id": user.get("id"),
                          "network": "tiktok", "subscription_status": user.get("subscriptionStatus")},
        )
