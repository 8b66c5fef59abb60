"""GET /platforms: what a composer screen needs for every platform, from the declarations
validation uses (limits, media rules, options models) plus the user's own accounts.

TikTok direct also shows each account's current creator_info (privacy levels offered,
longest video, interactions the creator turned off), read live and cached briefly
(shared/platforms/tiktok/creator.py), and the consent text TikTok's UX guidelines
require before posting (https://developers.tiktok.com/doc/content-sharing-guidelines/).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from shared.http import User
from shared.platforms import adapters
from shared.platforms.base import PlatformAdapter, TextRule
from shared.platforms.options import options_model
from shared.publishing import quota
from shared.publishing.runtime import Runtime

COUNTED_AS = {"utf16": "UTF-16 code units (an emoji counts 2)", "bytes": "bytes of UTF-8 (é counts 2)",
              "chars": "characters"}


def _text_rule(rule: TextRule | None) -> dict[str, Any] | None:
    if rule is None:
        return None
    return {"max_length": rule.max_length, "unit": rule.unit, "counted_as": COUNTED_AS[rule.unit],
            "max_hashtags": rule.max_hashtags, "max_mentions": rule.max_mentions,
            "forbidden_chars": list(rule.forbidden_chars), "required": rule.required}


def _connects(adapter: type[PlatformAdapter]) -> dict[str, Any]:
    if adapter.key == "blotato":
        return {"method": "api_key", "start": "POST /connections/blotato",
                "note": "Paste the Blotato API key (Blotato > Settings > API); POST /connections/blotato/accounts "
                        "lists its TikTok accounts to choose from."}
    return {"method": "oauth", "start": f"POST /oauth/start/{adapter.key}",
            "note": "Answers {authorization_url}; open it in the browser. The platform sends the browser back to "
                    "FRONTEND_URL with ?connected=<platform> or ?error=<message>."}


def _options(adapter: type[PlatformAdapter]) -> dict[str, Any]:
    schema = options_model(adapter.key).model_json_schema()
    if adapter.network == "tiktok":
        # Not required by the schema (an inbox draft needs neither), but by every direct post.
        schema["x-required-to-post"] = ["privacy_level", "consent"]
    return schema


def _tiktok_live(rt: Runtime, connection: dict[str, Any]) -> dict[str, Any]:
    from shared.platforms.tiktok import options as tiktok
    from shared.platforms.tiktok.creator import creator_info

    connection_id = str(connection["id"])
    info = creator_info(connection_id, lambda: rt.credentials(rt.db, connection_id, False).access_token,
                        (connection.get("account_info") or {}).get("creator_info"))
    keep = ("privacy_level_options", "max_video_post_duration_sec", "comment_disabled", "duet_disabled",
            "stitch_disabled", "creator_nickname", "creator_username", "creator_avatar_url", "live")
    return {**{k: info[k] for k in keep if k in info},
            "consent_text": {"default": tiktok.declaration(False), "branded_content": tiktok.declaration(True)}}


def platform_catalog(rt: Runtime, user: User) -> dict[str, Any]:
    now = rt.clock()
    with rt.db.user(user.claims) as conn:
        rows = [dict(r) for r in conn.execute(
            "select id, platform, platform_account_id, username, display_name, status, account_info "
            "from social_connections where status <> 'disconnected' order by created_at").fetchall()]
    platforms = []
    for key, adapter in sorted(adapters().items()):
        limits = adapter.limits
        accounts = []
        for row in (r for r in rows if r["platform"] == key):
            account: dict[str, Any] = {"connection_id": str(row["id"]), "username": row["username"],
                                       "display_name": row["display_name"], "status": row["status"]}
            with rt.db.service() as service:
                account["budgets"] = quota.budgets_left(service, adapter, account_id=row["platform_account_id"],
                                                        user_id=user.id, at=now)
            if key == "tiktok" and row["status"] == "connected":
                account["creator_info"] = _tiktok_live(rt, row)
            accounts.append(account)
        platforms.append({
            "key": key,
            "network": adapter.network,
            "display_name": adapter.display_name,
            "connects": _connects(adapter),
            "connections": accounts,
            "text": {"caption": _text_rule(limits.caption), "title": _text_rule(limits.title),
                     "tags_total_chars": limits.tags_total_chars},
            "media": {**asdict(limits.media), "containers": list(limits.media.containers),
                      "video_codecs": list(limits.media.video_codecs),
                      "audio_codecs": list(limits.media.audio_codecs)},
            "cover": asdict(limits.cover) if limits.cover else None,
            "options": _options(adapter),
        })
    return {"platforms": platforms}
