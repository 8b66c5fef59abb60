"""Blotato: connected with an API key, not OAuth.

The key is checked with `GET /v2/users/me`; `GET /v2/users/me/accounts?platform=tiktok`
lists the TikTok accounts connected inside Blotato, and the user picks one. A
user without their own key publishes through the app's key (BLOTATO_API_KEY).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.connections import messages
from shared.connections.errors import AccountNotEligible, ProviderNotConfigured
from shared.connections.oauth import ApiKeyProvider, Profile, secret_text
from shared.platforms.blotato.settings import BlotatoSettings
from shared.platforms.errors import AuthError, PermanentError


class BlotatoConnect(ApiKeyProvider):
    key = "blotato"
    SETTINGS = BlotatoSettings
    settings: BlotatoSettings

    def key_to_use(self, user_key: str | None) -> str:
        key = (user_key or "").strip() or secret_text(self.settings.api_key)
        if not key:
            raise ProviderNotConfigured(messages.BLOTATO_NO_KEY, code="blotato_key_missing")
        return key

    def _get(self, path: str, api_key: str, **params: Any) -> dict[str, Any]:
        url = f"{self.settings.api_base.rstrip('/')}{path}"
        try:
            return self.call_json("GET", url, operation="profile", params=params or None,
                                  headers={"blotato-api-key": api_key})
        except AuthError as exc:
            raise PermanentError(messages.BLOTATO_BAD_KEY, platform=self.key, code=exc.code,
                                 status=exc.status) from None

    def me(self, api_key: str) -> dict[str, Any]:
        return self._get("/v2/users/me", api_key)

    def tiktok_accounts(self, api_key: str) -> list[dict[str, Any]]:
        body = self._get("/v2/users/me/accounts", api_key, platform="tiktok")
        return [dict(a) for a in body.get("items") or [] if isinstance(a, Mapping) and a.get("id")]

    def profile_for(self, api_key: str, account_id: str | None) -> Profile:
        """Check the key, then the TikTok account to publish to (the only one, or the chosen one)."""
        from shared.connections.errors import ChooseAccount

        user = self.me(api_key)
        accounts = self.tiktok_accounts(api_key)
        if not accounts:
            raise AccountNotEligible(messages.BLOTATO_NO_TIKTOK, code="blotato_no_tiktok")
        if account_id is None:
            if len(accounts) > 1:
                raise ChooseAccount(messages.BLOTATO_CHOOSE, detail=[
                    {"id": str(a["id"]), "username": a.get("username"), "name": a.get("fullname")}
                    for a in accounts])
            chosen = accounts[0]
        else:
            matches = [a for a in accounts if str(a["id"]) == str(account_id)]
            if not matches:
                raise AccountNotEligible(messages.BLOTATO_UNKNOWN_ACCOUNT, code="blotato_unknown_account")
            chosen = matches[0]
        return Profile(
            platform_account_id=str(chosen["id"]),
            username=chosen.get("username"),
            display_name=chosen.get("fullname") or chosen.get("username"),
            account_type="tiktok_via_blotato",
            account_info={"blotato_account_id": str(chosen["id"]), "blotato_user_id": user.get("id"),
                          "network": "tiktok", "subscription_status": user.get("subscriptionStatus")},
        )
