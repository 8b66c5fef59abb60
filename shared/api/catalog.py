"""GET /platforms: what a composer screen needs for every platform, from the declarations
validation uses (limits, media rules, options models) plus the user's own accounts.

A platform whose descriptor reads account settings live adds them per connected account
(TikTok direct: its creator_info and the consent text, shared/platforms/tiktok/creator.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from shared.platforms.base import TextRule
from shared.platforms.oauth import ApiKeyProvider
from shared.platforms.platform import Platform
from shared.platforms.registry import registry
from shared.publishing import quota
from shared.publishing.runtime import Runtime
from shared.responses import CatalogAccount, HowToConnect, PlatformCatalog, PlatformEntry, TextLimit, TextLimits
from shared.users import User

COUNTED_AS = {"utf16": "UTF-16 code units (an emoji counts 2)", "bytes": "bytes of UTF-8 (é counts 2)",
              "chars": "characters"}


def _text_rule(rule: TextRule) -> TextLimit:
    return TextLimit(max_length=rule.max_length, unit=rule.unit, counted_as=COUNTED_AS[rule.unit],
                     max_hashtags=rule.max_hashtags, max_mentions=rule.max_mentions,
                     forbidden_chars=list(rule.forbidden_chars), required=rule.required)


def _connects(platform: Platform) -> HowToConnect:
    if platform.uses_api_key:
        assert issubclass(platform.provider, ApiKeyProvider)
        return HowToConnect(method="api_key", start=f"POST /connections/{platform.key}",
                            note=platform.provider.CONNECT_NOTE)
    return HowToConnect(method="oauth", start=f"POST /oauth/start/{platform.key}",
                        note="Answers {authorization_url}; open it in the browser. The platform sends the browser "
                             "back to FRONTEND_URL with ?connected=<platform> or ?error=<message>.")


def _options(platform: Platform) -> dict[str, Any]:
    schema = platform.options.model_json_schema()
    if platform.options.REQUIRED_TO_POST:
        schema["x-required-to-post"] = list(platform.options.REQUIRED_TO_POST)
    return schema


def _access_token(rt: Runtime, connection_id: str) -> Callable[[], str]:
    """Reads the connection's token only when a live read needs it (not on a cache hit)."""
    return lambda: rt.credentials(rt.db, connection_id, False).access_token


def platform_catalog(rt: Runtime, user: User) -> PlatformCatalog:
    now = rt.clock()
    with rt.db.user(user.claims) as conn:
        rows = [dict(r) for r in conn.execute(
            "select id, platform, platform_account_id, username, display_name, status, account_info "
            "from social_connections where status <> 'disconnected' order by created_at").fetchall()]
    platforms = []
    for platform in sorted(registry(), key=lambda p: p.key):
        key, adapter, limits = platform.key, platform.adapter, platform.limits
        accounts = []
        for row in (r for r in rows if r["platform"] == key):
            account: dict[str, Any] = {"connection_id": str(row["id"]), "username": row["username"],
                                       "display_name": row["display_name"], "status": row["status"]}
            with rt.db.service() as service:
                account["budgets"] = quota.budgets_left(service, adapter, account_id=row["platform_account_id"],
                                                        user_id=user.id, at=now)
            if platform.live_account_info is not None and row["status"] == "connected":
                account.update(platform.live_account_info(row, _access_token(rt, str(row["id"]))))
            # The budgets and the live account facts arrive as dicts from the quota and the platform package.
            accounts.append(CatalogAccount.model_validate(account))
        platforms.append(PlatformEntry(
            key=key,
            network=adapter.network,
            display_name=adapter.display_name,
            connects=_connects(platform),
            connections=accounts,
            text=TextLimits(caption=_text_rule(limits.caption),
                            title=_text_rule(limits.title) if limits.title else None,
                            tags_total_chars=limits.tags_total_chars),
            media={**asdict(limits.media), "containers": list(limits.media.containers),
                   "video_codecs": list(limits.media.video_codecs),
                   "audio_codecs": list(limits.media.audio_codecs)},
            cover=asdict(limits.cover) if limits.cover else None,
            options=_options(platform),
        ))
    return PlatformCatalog(platforms=platforms)
