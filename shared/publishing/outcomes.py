"""Mail for every final outcome of a platform post, from the events outbox (scheduler tick).

The triggers that record a target's state change also mark publishing outcomes
`mail_due` (supabase/migrations/20261130070000_signals.sql), so every outcome gets
its mail whichever code path caused it, immediate or scheduled:

- failed for good: one mail per failure, with the reason and the retry link;
- deferred (EC-4, a budget is used up): one mail per target, however often it waits;
- published: one mail per post for the platforms that went live close together. A
  post's published events wait while a sibling is still on its way, at most
  GROUP_WINDOW, and then go out as one mail naming the video (caption start, poster
  frame when there is a cover) with each platform's link.

Mails go through `queue_email`, which honours the user's preferences.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared.db.database import Conn, Database
from shared.log import get_logger
from shared.notify import templates
from shared.notify.outbox import queue_email
from shared.storage.base import Storage

log = get_logger(__name__)

GROUP_WINDOW = timedelta(minutes=5)
POSTER_LINK_TTL_SECONDS = 7 * 24 * 3600
# A sibling in one of these states is on its way: its result may join the published mail.
_IN_FLIGHT = ["queued", "uploading", "processing", "publishing", "reconciling"]


@dataclass
class OutcomeMails:
    failed: int = 0
    deferred: int = 0
    published: int = 0
    waiting: int = 0

    def as_dict(self) -> dict[str, int]:
        return vars(self).copy()


def mail_outcomes(db: Database, now: datetime, files: Storage, frontend_url: str, limit: int = 500) -> OutcomeMails:
    """Mail the outcomes due in the events outbox; `files` signs the link to a post's cover, the links
    to a post go to `frontend_url`."""
    summary = OutcomeMails()
    with db.service() as conn:
        rows = conn.execute(
            "select * from outbox_events where mail_due order by created_at limit %s for update skip locked", (limit,)
        ).fetchall()
        handled: list[Any] = []
        published: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for event in rows:
            if event["type"] == "target.published":
                published[str(event["post_id"])].append(dict(event))
                continue
            if event["type"] == "target.failed":
                summary.failed += _failed(conn, event, frontend_url)
            elif event["type"] == "target.deferred":
                summary.deferred += _deferred(conn, event, frontend_url)
            handled.append(event["id"])
        for post_id, events in published.items():
            oldest = min(event["created_at"] for event in events)
            if oldest > now - GROUP_WINDOW and _sibling_in_flight(conn, post_id, [e["target_id"] for e in events]):
                summary.waiting += len(events)
                continue
            summary.published += _published(conn, post_id, events, files, frontend_url)
            handled += [event["id"] for event in events]
        if handled:
            conn.execute("update outbox_events set mail_due = false where id = any(%s)", (handled,))
    return summary


def _post(conn: Conn, post_id: Any) -> dict[str, Any]:
    row = conn.execute("select id, caption, video_id from posts where id = %s", (post_id,)).fetchone()
    return dict(row) if row else {"id": post_id, "caption": None, "video_id": None}


def _failed(conn: Conn, event: dict[str, Any], frontend_url: str) -> int:
    data = event["data"]
    post = _post(conn, event["post_id"])
    subject, body = templates.post_failed(platform=data["platform"], reason=data.get("message") or "",
                                          post_id=str(event["post_id"]), caption=post["caption"],
                                          frontend_url=frontend_url)
    # Keyed by event: a target retried by the user that fails again is a new outcome.
    return int(queue_email(conn, user_id=str(event["user_id"]), kind=templates.POST_FAILED, subject=subject,
                           body=body, dedupe_key=templates.dedupe_key(templates.POST_FAILED, event["target_id"],
                                                                      event["id"])))


def _deferred(conn: Conn, event: dict[str, Any], frontend_url: str) -> int:
    data = event["data"]
    post = _post(conn, event["post_id"])
    subject, body = templates.post_deferred(platform=data["platform"], message=data.get("message") or "",
                                            post_id=str(event["post_id"]), caption=post["caption"],
                                            frontend_url=frontend_url)
    # Keyed by target: a target that waits again after a reset does not mail twice (EC-4: once).
    return int(queue_email(conn, user_id=str(event["user_id"]), kind=templates.POST_DEFERRED, subject=subject,
                           body=body, dedupe_key=templates.dedupe_key(templates.POST_DEFERRED, event["target_id"])))


def _sibling_in_flight(conn: Conn, post_id: str, done_targets: list[Any]) -> bool:
    row = conn.execute(
        "select 1 from publish_targets where post_id = %s and state = any(%s) and not (id = any(%s)) limit 1",
        (post_id, _IN_FLIGHT, done_targets),
    ).fetchone()
    return row is not None


def _published(conn: Conn, post_id: str, events: list[dict[str, Any]], files: Storage, frontend_url: str) -> int:
    post = _post(conn, post_id)
    events = sorted(events, key=lambda e: e["data"].get("platform") or "")
    items = [(e["data"]["platform"], e["data"].get("platform_url")) for e in events]
    subject, body = templates.posts_published(items=items, caption=post["caption"], post_id=post_id,
                                              poster_url=_poster_url(conn, post.get("video_id"),
                                                                     [p for p, _ in items], files),
                                              post_summary=_summary_unless_all_published(conn, post_id),
                                              frontend_url=frontend_url)
    first = min(events, key=lambda e: (e["created_at"], str(e["id"])))
    return int(queue_email(conn, user_id=str(first["user_id"]), kind=templates.POST_PUBLISHED, subject=subject,
                           body=body, dedupe_key=templates.dedupe_key(templates.POST_PUBLISHED, post_id, first["id"])))


def _summary_unless_all_published(conn: Conn, post_id: str) -> str | None:
    """"Published to 2 of 3 platforms, 1 failed." when not every platform of the post is live."""
    from shared.publishing.service import summarize

    targets = [dict(row) for row in conn.execute("select state from publish_targets where post_id = %s",
                                                 (post_id,)).fetchall()]
    return None if all(t["state"] == "published" for t in targets) else summarize(targets)


def _poster_url(conn: Conn, video_id: Any, platforms: list[str], files: Storage) -> str | None:
    """A link to the post's cover image, if one was set (a platform's cover, else any)."""
    if video_id is None:
        return None
    rows = conn.execute("select kind, storage_path from video_renditions where video_id = %s and kind like 'cover:%%'",
                        (video_id,)).fetchall()
    if not rows:
        return None
    by_platform = {row["kind"].removeprefix("cover:"): row["storage_path"] for row in rows}
    path = next((by_platform[p] for p in platforms if p in by_platform), rows[0]["storage_path"])
    try:
        return files.signed_url(path, POSTER_LINK_TTL_SECONDS)
    except Exception:  # a missing poster link must never hold back the mail
        log.warning("poster link unavailable", video_id=str(video_id))
        return None
