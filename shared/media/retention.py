"""Storage retention: published videos go a week after their last publish, unpublished ones age out.

Called by the scheduler tick:

    report = run_retention(app.database, app.storage, now, settings=app.storage_settings)  # notices, then deletes
    usage = storage_usage(app.storage, alert_bytes=app.storage_settings.storage_alert_bytes)  # alert above 80 GB

A video is kept while any target of any of its posts is not terminal (`published`,
`failed`, `canceled`): scheduled, queued, deferred, needs_reconnect, reconciling or in
progress targets all still need the file. Otherwise:
- a video published at least once is deleted VIDEO_RETENTION_DAYS (7) after the latest of
  its upload, its targets' scheduled times and their publish times;
- a video never published (never used, or only in failed or canceled posts) ages out
  UNPUBLISHED_VIDEO_DAYS (30) after the latest of those times. Its owner gets one mail
  VIDEO_REMOVAL_NOTICE_DAYS (3) before, listing the videos and the date; the removal
  never comes sooner than that after the mail (`videos.removal_notice_at`), so an old
  upload found late still gets its notice first. Using the video in a new post moves
  the date (and a later age-out sends a new notice).
`videos.delete_after`, when set later, holds a video until then.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import groupby
from typing import Any

from shared.db import Database
from shared.db.database import Conn
from shared.log import get_logger
from shared.notify.outbox import queue_email
from shared.storage.base import Storage, human_size, video_folder
from shared.storage.settings import StorageSettings

log = get_logger(__name__)
TERMINAL_STATES = ("published", "failed", "canceled")
REMOVAL_NOTICE = "video_removal"

# Every stored video no unfinished target needs, with the time it falls due (`due_at`).
_AGING = """
with aging as (
  select v.id, v.user_id, v.storage_path, v.original_filename, v.created_at, v.delete_after, v.removal_notice_at,
         greatest(
           v.created_at,
           (select max(greatest(coalesce(t.scheduled_at, t.created_at),
                               coalesce(t.published_at, t.scheduled_at, t.created_at)))
              from posts p join publish_targets t on t.post_id = p.id
             where p.video_id = v.id)
         ) as last_use,
         exists (select 1 from posts p join publish_targets t on t.post_id = p.id
                  where p.video_id = v.id and t.state = 'published') as published
    from videos v
   where v.deleted_at is null
     and (%(ids)s::uuid[] is null or v.id = any(%(ids)s::uuid[]))
     and not exists (
           select 1 from posts p join publish_targets t on t.post_id = p.id
            where p.video_id = v.id and t.state not in ('published', 'failed', 'canceled'))
), due as (
  select aging.*, last_use + case when published then %(window)s else %(unpublished)s end as due_at from aging
)
"""

_DUE = _AGING + """
select id, user_id, storage_path from due
 where (delete_after is null or delete_after <= %(now)s)
   and due_at <= %(now)s
   and (published or (removal_notice_at is not null and removal_notice_at >= due_at - %(notice)s
                      and removal_notice_at + %(notice)s <= %(now)s))
 order by created_at
 limit %(limit)s
"""

_TO_NOTIFY = _AGING + """
select id, user_id, original_filename, created_at, due_at from due
 where not published
   and due_at - %(notice)s <= %(now)s
   and (removal_notice_at is null or removal_notice_at < due_at - %(notice)s)
 order by user_id, due_at
 limit %(limit)s
"""

_REMOVAL_AT = _AGING + """
select id, published, due_at, removal_notice_at from due
"""


@dataclass
class RetentionReport:
    deleted_videos: list[str] = field(default_factory=list)
    deleted_objects: int = 0
    failed: list[str] = field(default_factory=list)
    notices: int = 0  # videos whose owners were told of their removal in this run


@dataclass(frozen=True)
class AgeOutRule:
    published_days: int
    unpublished_days: int
    notice_days: int

    def params(self, now: datetime, limit: int = 200, ids: list[str] | None = None) -> dict[str, Any]:
        return {"now": now, "window": timedelta(days=self.published_days),
                "unpublished": timedelta(days=self.unpublished_days), "notice": timedelta(days=self.notice_days),
                "limit": limit, "ids": ids}


def age_out_rule(settings: StorageSettings, retention_days: int | None = None, unpublished_days: int | None = None,
                 notice_days: int | None = None) -> AgeOutRule:
    """The rule of `settings` (the application's), each period replaced when given."""
    return AgeOutRule(
        published_days=settings.video_retention_days if retention_days is None else retention_days,
        unpublished_days=settings.unpublished_video_days if unpublished_days is None else unpublished_days,
        notice_days=settings.video_removal_notice_days if notice_days is None else notice_days,
    )


def removal_times(conn: Conn, video_ids: Iterable[str], now: datetime, rule: AgeOutRule
                  ) -> dict[str, datetime | None]:
    """When each video will be removed as things stand; None while an unfinished post needs it."""
    ids = [str(v) for v in video_ids]
    found: dict[str, datetime | None] = dict.fromkeys(ids)
    if not ids:
        return found
    for row in conn.execute(_REMOVAL_AT, rule.params(now, ids=ids)).fetchall():
        found[str(row["id"])] = _removal_at(row, now, rule)
    return found


def _removal_at(row: Mapping[str, Any], now: datetime, rule: AgeOutRule) -> datetime:
    due: datetime = row["due_at"]
    if row["published"]:
        return due
    notice = timedelta(days=rule.notice_days)
    noticed = row["removal_notice_at"]
    # Without a notice for this date yet, the mail goes out at the earliest now: the removal follows it.
    told_at = noticed if noticed is not None and noticed >= due - notice else max(now, due - notice)
    return max(due, told_at + notice)


def _notice_body(videos: Iterable[Mapping[str, Any]], removal: Mapping[str, datetime]) -> str:
    lines = [f"- {v['original_filename'] or 'a video'} (uploaded {v['created_at']:%Y-%m-%d}): removed on "
             f"{removal[str(v['id'])]:%Y-%m-%d} (UTC)" for v in videos]
    return ("Hi,\n\nThese videos in your library were never published, so we will remove them:\n\n"
            + "\n".join(lines)
            + "\n\nTo keep one, use it in a post before that day. Published videos are kept for a week after "
              "their last publish.\n")


def send_removal_notices(db: Database, now: datetime, rule: AgeOutRule, *, limit: int = 200) -> int:
    """Mail each owner once about unpublished videos that age out within the notice period; returns videos told."""
    with db.service() as conn:
        rows = conn.execute(_TO_NOTIFY, rule.params(now, limit)).fetchall()
        told = 0
        for user_id, group in groupby(rows, key=lambda row: str(row["user_id"])):
            videos = list(group)
            ids = sorted(str(v["id"]) for v in videos)
            removal = {str(v["id"]): max(v["due_at"], now + timedelta(days=rule.notice_days)) for v in videos}
            queue_email(conn, user_id=user_id, kind=REMOVAL_NOTICE,
                        subject=f"{len(videos)} unpublished video{'s' if len(videos) != 1 else ''} will be removed "
                                "from your library",
                        body=_notice_body(videos, removal),
                        dedupe_key="video-removal:" + hashlib.sha256(",".join(ids).encode()).hexdigest()[:32])
            # Set even without a mail address: the removal date then follows from this moment, as for everyone.
            conn.execute("update videos set removal_notice_at = %s where id = any(%s::uuid[])", (now, ids))
            told += len(ids)
    if told:
        log.info("video removal notices", videos=told)
    return told


def run_retention(
    db: Database, storage: Storage, now: datetime, *, settings: StorageSettings, retention_days: int | None = None,
    unpublished_days: int | None = None, notice_days: int | None = None, limit: int = 200,
) -> RetentionReport:
    """Send due removal notices, then delete due videos and their renditions; set `videos.deleted_at`."""
    rule = age_out_rule(settings, retention_days, unpublished_days, notice_days)
    report = RetentionReport(notices=send_removal_notices(db, now, rule, limit=limit))
    with db.service() as conn:
        due = conn.execute(_DUE, rule.params(now, limit)).fetchall()
    for video in due:
        video_id = str(video["id"])
        try:
            # One transaction per video: row locked, still-needed re-checked, files removed, then marked.
            with db.service() as conn:
                locked = conn.execute(
                    "select id from videos v where id = %s and deleted_at is null and not exists ("
                    " select 1 from posts p join publish_targets t on t.post_id = p.id"
                    " where p.video_id = v.id and t.state <> all(%s)) for update skip locked",
                    (video_id, list(TERMINAL_STATES)),
                ).fetchone()
                if locked is None:
                    continue
                renditions = conn.execute(
                    "delete from video_renditions where video_id = %s returning storage_path", (video_id,)
                ).fetchall()
                paths = [str(video["storage_path"])] + [str(r["storage_path"]) for r in renditions]
                # Frames and time-chosen covers have no rendition row: they live in the video's own folder.
                paths += [item.path for item in storage.list(video_folder(video["user_id"], video_id))]
                paths = list(dict.fromkeys(paths))
                for path in paths:
                    storage.delete(path)
                conn.execute("update videos set deleted_at = %s where id = %s", (now, video_id))
            report.deleted_videos.append(video_id)
            report.deleted_objects += len(paths)
        except Exception:
            log.exception("retention could not delete a video", video_id=video_id)
            report.failed.append(video_id)
    if report.deleted_videos or report.failed:
        log.info("retention ran", deleted=len(report.deleted_videos), objects=report.deleted_objects,
                 failed=len(report.failed))
    return report


@dataclass(frozen=True)
class StorageUsage:
    bytes: int
    count: int
    alert_bytes: int

    @property
    def alert(self) -> bool:
        return self.bytes >= self.alert_bytes

    @property
    def message(self) -> str:
        text = (f"Video storage holds {self.count} files, {human_size(self.bytes)} "
                f"of the {human_size(self.alert_bytes)} alert level.")
        return text + (" Above the alert level: check retention and storage costs." if self.alert else "")


def storage_usage(storage: Storage, *, alert_bytes: int) -> StorageUsage:
    """Bytes and object count in the bucket, and whether the 80 GB alert (STORAGE_ALERT_BYTES, `alert_bytes`) fires."""
    used, count = storage.usage()
    usage = StorageUsage(used, count, alert_bytes)
    if usage.alert:
        log.warning("storage above alert level", bytes=used, count=count, alert_bytes=alert_bytes)
    return usage
