"""The calendar: a user's platform posts by time, as a calendar view shows them.

Per target: the text that platform receives (not only the post's caption), the title
where there is one, the account, the video's poster frame, the state with its user
message and the time in the user's zone. Pages are read with a cursor on
(time, id), so rows added meanwhile never shift a page.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from shared.errors import InvalidInput
from shared.media.library import MEDIA_URL_SECONDS, POSTER
from shared.platforms import adapters
from shared.platforms.errors import PlatformError
from shared.publishing.preview import composed_text
from shared.publishing.requests import PostQuery
from shared.publishing.runtime import Runtime
from shared.responses import PostList
from shared.storage.base import Storage
from shared.users import User

_QUERY = """
select t.id, t.post_id, t.platform, t.state, t.scheduled_at, t.timezone, t.platform_url, t.user_message,
       t.published_at, t.created_at, t.connection_id, t.title, t.options,
       coalesce(t.caption, p.caption, '') as text_caption, coalesce(t.hashtags, p.hashtags, '{}') as text_hashtags,
       p.caption, p.campaign, p.video_id, v.original_filename,
       c.username, c.display_name, c.avatar_url, c.platform_account_id,
       r.storage_path as poster_path,
       coalesce(t.scheduled_at, t.created_at) as at
  from publish_targets t
  join posts p on p.id = t.post_id
  join videos v on v.id = p.video_id
  left join social_connections c on c.id = t.connection_id
  left join video_renditions r on r.video_id = p.video_id and r.kind = %(poster)s
 where (%(start)s::timestamptz is null or coalesce(t.scheduled_at, t.created_at) >= %(start)s)
   and (%(end)s::timestamptz is null or coalesce(t.scheduled_at, t.created_at) < %(end)s)
   and (%(platforms)s::text[] is null or t.platform = any(%(platforms)s))
   and (%(account)s::uuid is null or t.connection_id = %(account)s)
   and (%(campaign)s::text is null or p.campaign = %(campaign)s)
   and (%(state)s::text is null or t.state = %(state)s)
   and (%(after_at)s::timestamptz is null
        or (coalesce(t.scheduled_at, t.created_at), t.id) > (%(after_at)s, %(after_id)s::uuid))
 order by coalesce(t.scheduled_at, t.created_at), t.id
 limit %(limit)s
"""


def _platforms(name: str | None) -> list[str] | None:
    """A network covers every integration publishing there ("tiktok": TikTok direct and Blotato)."""
    if name is None:
        return None
    return sorted(cls.key for cls in adapters().values() if name in (cls.key, cls.network))


def _cursor(at: datetime, target_id: str) -> str:
    return base64.urlsafe_b64encode(f"{at.isoformat()}|{target_id}".encode()).decode()


def _read_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        at, target_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return datetime.fromisoformat(at), str(uuid.UUID(target_id))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput("This page link is not valid any more. Please load the list again.", code="invalid_cursor",
                           detail=[{"field": "cursor", "problem": "not a cursor from a previous page"}]) from None


def _texts(row: dict[str, Any], now: datetime) -> tuple[str, str | None]:
    adapter = adapters()[row["platform"]]
    try:
        sent = composed_text(adapter, caption=row["text_caption"], title=row["title"],
                             hashtags=row["text_hashtags"] or (), options=row["options"] or {},
                             account_id=str(row["platform_account_id"] or ""), filename=row["original_filename"],
                             now=now)
    except PlatformError:
        sent = {}
    text = sent.get("caption", sent.get("description", row["text_caption"]))
    return text, sent.get("title", row["title"])


def list_posts(rt: Runtime, user: User, query: PostQuery, files: Storage) -> PostList:
    """One page of the calendar, oldest first, and the cursor of the next page (None at the end)."""
    after_at, after_id = _read_cursor(query.cursor) if query.cursor else (None, None)
    params = {**query.model_dump(by_alias=False), "platforms": _platforms(query.platform), "poster": POSTER,
              "after_at": after_at, "after_id": after_id, "limit": query.limit + 1}
    with rt.db.user(user.claims) as conn:
        rows = [dict(row) for row in conn.execute(_QUERY, params).fetchall()]
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    items = []
    for row in rows:
        text, title = _texts(row, rt.clock())
        zone = ZoneInfo(row["timezone"] or "UTC")
        items.append({
            "id": str(row["id"]), "post_id": str(row["post_id"]), "video_id": str(row["video_id"]),
            "platform": row["platform"], "network": adapters()[row["platform"]].network,
            "state": row["state"], "user_message": row["user_message"],
            "scheduled_at": row["scheduled_at"], "timezone": row["timezone"],
            "local_time": row["at"].astimezone(zone).isoformat(),
            "platform_url": row["platform_url"], "published_at": row["published_at"], "created_at": row["created_at"],
            "caption": row["caption"], "campaign": row["campaign"], "text": text, "title": title,
            "account": {"connection_id": str(row["connection_id"]) if row["connection_id"] else None,
                        "username": row["username"], "display_name": row["display_name"],
                        "avatar_url": row["avatar_url"]},
            "poster_url": files.signed_url(row["poster_path"], MEDIA_URL_SECONDS) if row["poster_path"] else None,
        })
    next_cursor = _cursor(rows[-1]["at"], str(rows[-1]["id"])) if more and rows else None
    return PostList.model_validate({"items": items, "next_cursor": next_cursor})
