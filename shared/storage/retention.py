"""Storage retention: delete videos a week after their last scheduled publish, never earlier.

Called by the scheduler tick:

    app = application()
    report = run_retention(app.database, app.storage, now)   # deletes what is due
    usage = storage_usage(app.storage)                       # bytes, count, alert above 80 GB

A video is kept while any target of any of its posts is not terminal (`published`,
`failed`, `canceled`): scheduled, queued, deferred, needs_reconnect, reconciling or in
progress targets all still need the file. Otherwise it is deleted VIDEO_RETENTION_DAYS
after the latest of its upload, its targets' scheduled times and their publish times,
and `videos.delete_after` when set later than that.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shared.app import application
from shared.db import Database
from shared.log import get_logger
from shared.storage.base import Storage, human_size

log = get_logger(__name__)
TERMINAL_STATES = ("published", "failed", "canceled")

_DUE = """
select v.id, v.storage_path
  from videos v
 where v.deleted_at is null
   and (v.delete_after is null or v.delete_after <= %(now)s)
   and greatest(
         v.created_at,
         (select max(greatest(coalesce(t.scheduled_at, t.created_at),
                             coalesce(t.published_at, t.scheduled_at, t.created_at)))
            from posts p join publish_targets t on t.post_id = p.id
           where p.video_id = v.id)
       ) + %(window)s <= %(now)s
   and not exists (
         select 1 from posts p join publish_targets t on t.post_id = p.id
          where p.video_id = v.id and t.state not in ('published', 'failed', 'canceled'))
 order by v.created_at
 limit %(limit)s
"""


@dataclass
class RetentionReport:
    deleted_videos: list[str] = field(default_factory=list)
    deleted_objects: int = 0
    failed: list[str] = field(default_factory=list)


def run_retention(
    db: Database, storage: Storage, now: datetime, *, retention_days: int | None = None, limit: int = 200
) -> RetentionReport:
    """Delete due videos and their renditions from storage; set `videos.deleted_at`."""
    days = application().storage_settings.video_retention_days if retention_days is None else retention_days
    report = RetentionReport()
    with db.service() as conn:
        due = conn.execute(_DUE, {"now": now, "window": timedelta(days=days), "limit": limit}).fetchall()
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


def storage_usage(storage: Storage, *, alert_bytes: int | None = None) -> StorageUsage:
    """Bytes and object count in the bucket, and whether the 80 GB alert (STORAGE_ALERT_BYTES) fires."""
    used, count = storage.usage()
    limit = application().storage_settings.storage_alert_bytes if alert_bytes is None else alert_bytes
    usage = StorageUsage(used, count, limit)
    if usage.alert:
        log.warning("storage above alert level", bytes=used, count=count, alert_bytes=limit)
    return usage
