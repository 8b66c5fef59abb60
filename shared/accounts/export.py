"""Everything we keep about a user, as one JSON document they can download.

Read in the user's own transaction, so RLS and the column grants decide what is in
it: exactly what the user may read, never a token ciphertext. Server bookkeeping
(OAuth states, idempotency keys, task leases and step data) is not the user's data
and is left out.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from shared.connections.store import PUBLIC_COLUMNS
from shared.db.database import Database
from shared.responses import DataExport
from shared.users import User

FORMAT_VERSION = 1

_QUERIES: dict[str, str] = {
    "videos": "select id, original_filename, content_type, size_bytes, sha256, probe, created_at, delete_after, "
              "deleted_at from videos order by created_at",
    "video_renditions": "select id, video_id, kind, content_type, size_bytes, created_at from video_renditions "
                        "order by created_at",
    "connections": f"select {PUBLIC_COLUMNS} from social_connections order by created_at",  # noqa: S608 - constant
    "batches": "select id, total, status, created_at from publish_batches order by created_at",
    "posts": "select id, video_id, batch_id, caption, hashtags, campaign, created_at, updated_at from posts "
             "order by created_at",
    "targets": "select id, post_id, connection_id, platform, caption, title, hashtags, options, scheduled_at, "
               "timezone, state, attempts, platform_post_id, platform_url, error_code, error_class, user_message, "
               "published_at, created_at, updated_at from publish_targets order by created_at",
    "events": "select id, post_id, target_id, platform, event, from_state, to_state, error_code, detail, created_at "
              "from publish_events order by id",
    "analytics": "select target_id, platform, platform_post_id, views, likes, comments, shares, saves, "
                 "watch_time_seconds, fetched_at from analytics_snapshots order by fetched_at",
    "quota_usage": "select platform, scope, target_id, units, used_at from platform_quota_usage order by used_at",
    "notifications": "select kind, to_email, subject, body, created_at, sent_at from notifications "
                     "order by created_at",
}


def export_user_data(db: Database, user: User, now: datetime) -> DataExport:
    document: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "exported_at": now.isoformat(),
        "user": {"id": user.id, "email": user.email},
    }
    with db.user(user.claims) as conn:
        for name, query in _QUERIES.items():
            document[name] = [{k: _plain(v) for k, v in row.items()} for row in conn.execute(query).fetchall()]
    return DataExport.model_validate(document)


def _plain(value: Any) -> Any:
    """JSON values: ISO 8601 timestamps, string ids, numbers as numbers."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
