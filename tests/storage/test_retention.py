from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from shared.media.retention import run_retention, storage_usage

# Real time: other tests share this database, and only our back-dated rows may fall due.
NOW = datetime.now(UTC)


def _settings():
    """The storage settings of the application installed now (the age-out rule's periods)."""
    from shared.app import application

    return application().storage_settings


def _video(db, storage, user, created_at):
    video_id = str(uuid.uuid4())
    path = f"{user['sub']}/{video_id}/original.mp4"
    storage.put(path, [b"video bytes"], "video/mp4")
    converted = f"{user['sub']}/{video_id}/converted.mp4"
    storage.put(converted, [b"converted"], "video/mp4")
    with db.service() as conn:
        conn.execute(
            "insert into videos (id, user_id, storage_path, size_bytes, created_at) values (%s, %s, %s, 11, %s)",
            (video_id, user["sub"], path, created_at),
        )
        conn.execute(
            "insert into video_renditions (video_id, user_id, kind, storage_path, content_type, size_bytes) "
            "values (%s, %s, 'converted', %s, 'video/mp4', 9)",
            (video_id, user["sub"], converted),
        )
    return video_id, path, converted


def _target(db, user, video_id, *, state, scheduled_at):
    with db.service() as conn:
        connection = conn.execute(
            "insert into social_connections (user_id, platform, platform_account_id) values (%s, 'youtube', %s) "
            "returning id",
            (user["sub"], str(uuid.uuid4())),
        ).fetchone()
        post = conn.execute(
            "insert into posts (user_id, video_id) values (%s, %s) returning id", (user["sub"], video_id)
        ).fetchone()
        conn.execute(
            "insert into publish_targets (user_id, post_id, connection_id, platform, state, scheduled_at) "
            "values (%s, %s, %s, 'youtube', %s, %s)",
            (user["sub"], post["id"], connection["id"], state, scheduled_at),
        )


def _deleted_at(db, video_id):
    with db.service() as conn:
        return conn.execute("select deleted_at from videos where id = %s", (video_id,)).fetchone()["deleted_at"]


@pytest.mark.parametrize(
    "state", ["scheduled", "queued", "uploading", "processing", "publishing", "deferred", "needs_reconnect",
              "reconciling"],
)
def test_never_deletes_a_video_a_pending_target_needs(db, user_a, local_storage, state):
    video_id, path, converted = _video(db, local_storage, user_a, NOW - timedelta(days=60))
    _target(db, user_a, video_id, state=state, scheduled_at=NOW - timedelta(days=30))
    report = run_retention(db, local_storage, NOW, settings=_settings(), retention_days=7)
    assert video_id not in report.deleted_videos
    assert local_storage.exists(path) and local_storage.exists(converted)
    assert _deleted_at(db, video_id) is None


def test_deletes_seven_days_after_the_last_scheduled_publish(db, user_a, local_storage):
    video_id, path, converted = _video(db, local_storage, user_a, NOW - timedelta(days=30))
    _target(db, user_a, video_id, state="published", scheduled_at=NOW - timedelta(days=20))
    _target(db, user_a, video_id, state="canceled", scheduled_at=NOW - timedelta(days=6, hours=23))

    assert video_id not in run_retention(db, local_storage, NOW, settings=_settings(), retention_days=7).deleted_videos
    assert local_storage.exists(path)

    later = NOW + timedelta(hours=2)
    report = run_retention(db, local_storage, later, settings=_settings(), retention_days=7)
    assert video_id in report.deleted_videos
    assert not local_storage.exists(path) and not local_storage.exists(converted)
    assert _deleted_at(db, video_id) == later
    with db.service() as conn:
        left = conn.execute("select count(*) as n from video_renditions where video_id = %s", (video_id,)).fetchone()
    assert left["n"] == 0


def test_a_failed_target_does_not_keep_a_video(db, user_a, local_storage):
    video_id, path, _ = _video(db, local_storage, user_a, NOW - timedelta(days=30))
    _target(db, user_a, video_id, state="failed", scheduled_at=NOW - timedelta(days=10))
    report = run_retention(db, local_storage, NOW, settings=_settings(),
                           retention_days=7, unpublished_days=7, notice_days=0)
    assert video_id in report.deleted_videos
    assert not local_storage.exists(path)


def test_unused_uploads_expire_seven_days_after_upload(db, user_a, local_storage):
    fresh, fresh_path, _ = _video(db, local_storage, user_a, NOW - timedelta(days=6))
    old, old_path, _ = _video(db, local_storage, user_a, NOW - timedelta(days=8))
    report = run_retention(db, local_storage, NOW, settings=_settings(),
                           retention_days=7, unpublished_days=7, notice_days=0)
    assert old in report.deleted_videos and fresh not in report.deleted_videos
    assert local_storage.exists(fresh_path) and not local_storage.exists(old_path)


def test_storage_usage_reports_bytes_count_and_alert(local_storage):
    local_storage.put("u/v/original.mp4", [b"x" * 600], "video/mp4")
    local_storage.put("u/v/converted.mp4", [b"x" * 500], "video/mp4")
    usage = storage_usage(local_storage, alert_bytes=1000)
    assert (usage.bytes, usage.count, usage.alert) == (1100, 2, True)
    assert "alert level" in usage.message
    assert storage_usage(local_storage, alert_bytes=10_000).alert is False
