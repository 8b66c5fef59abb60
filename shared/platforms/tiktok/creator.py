"""The creator's current TikTok settings (creator_info), read live and kept briefly.

The publish form and the publish request both need the privacy levels TikTok offers
this creator *now* (a creator who makes the account private loses PUBLIC_TO_EVERYONE),
so the connect-time copy in `account_info` is only the fallback when TikTok can't be
reached. creator_info allows 20 calls per minute per token
(https://developers.tiktok.com/doc/content-posting-api-reference-query-creator-info):
a short cache keeps a busy composer well under that.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.platforms.errors import PlatformError
from shared.platforms.tiktok import options
from shared.platforms.tiktok.oauth import TikTokOAuth

CACHE_SECONDS = 60.0
_cache: dict[str, tuple[float, dict[str, Any]]] = {}
_lock = threading.Lock()


def creator_info(connection_id: str, access_token: Callable[[], str],
                 stored: Mapping[str, Any] | None = None, stored_at: datetime | None = None) -> dict[str, Any]:
    """privacy_level_options, max_video_post_duration_sec, *_disabled for one connection.

    `access_token` is called only on a cache miss; `stored` is the connect-time copy, read at
    `stored_at`: as good as a live answer while it is younger than the cache.
    """
    now = time.monotonic()
    with _lock:
        hit = _cache.get(connection_id)
        if hit and hit[0] > now:
            return hit[1]
    if stored and "unavailable" not in stored and stored_at is not None \
            and datetime.now(UTC) - stored_at < timedelta(seconds=CACHE_SECONDS):
        return {**stored, "live": True}
    try:
        info = TikTokOAuth().creator_info(access_token())
    except PlatformError as exc:
        info = {"unavailable": exc.code}
    if "unavailable" in info:
        fallback = dict(stored or {})
        fallback.pop("unavailable", None)
        return {**fallback, "live": False}
    info = {**info, "live": True}
    with _lock:
        _cache[connection_id] = (now + CACHE_SECONDS, info)
    return info


def forget(connection_id: str) -> None:
    with _lock:
        _cache.pop(connection_id, None)


# What the catalog (GET /platforms) shows of a connected account's creator_info.
CATALOG_FIELDS = ("privacy_level_options", "max_video_post_duration_sec", "comment_disabled", "duet_disabled",
                  "stitch_disabled", "creator_nickname", "creator_username", "creator_avatar_url", "live")


def live_account_info(connection: Mapping[str, Any], access_token: Callable[[], str]) -> dict[str, Any]:
    """The catalog's live view of one connection: its creator_info and the consent text to show."""
    info = creator_info(str(connection["id"]), access_token, (connection.get("account_info") or {}).get("creator_info"))
    return {"creator_info": {**{k: info[k] for k in CATALOG_FIELDS if k in info},
                             "consent_text": {"default": options.declaration(False),
                                              "branded_content": options.declaration(True)}}}


def settings_at_publish(connection: Mapping[str, Any], access_token: Callable[[], str]) -> dict[str, Any]:
    """What a post's options are checked against when it is created: the creator_info TikTok offers now."""
    return creator_info(str(connection["id"]), access_token, (connection.get("account_info") or {}).get("creator_info"),
                        connection.get("updated_at"))
